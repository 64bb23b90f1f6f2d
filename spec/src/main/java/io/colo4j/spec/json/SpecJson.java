package io.colo4j.spec.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.SpecException;

/**
 * Reads and writes specs and process groups as JSON, e.g.
 * {@code {"type":"shard","dims":[1],"numPartitions":[2],"strides":[3]}},
 * {@code {"type":"replicate"}}, {@code {"type":"partial"}},
 * {@code {"pattern":"tp1d","outputReplicate":true}}, {@code {"tpDegree":2,"dpDegree":2}}.
 *
 * <p>Reading is strict, because a typo in a parallel plan silently changes which rank holds
 * what: unknown or duplicate properties, a missing or unknown {@code type}, strings or
 * fractions where ints belong, and trailing content are all rejected with a
 * {@link SpecException} naming the type, the problem and where in the document it is.
 */
public final class SpecJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private static final int MAX_ECHOED_CHARS = 200;

    private SpecJson() {}

    /**
     * The shared mapper, for modules that embed specs in their own documents. Configured once
     * here; reconfiguring it would change every caller's format, so don't.
     */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new SpecException("cannot write " + value + " as JSON: " + e.getOriginalMessage(), e);
        }
    }

    public static <T> T read(String json, Class<T> type) {
        if (json == null) {
            throw new SpecException("cannot read a " + type.getSimpleName() + " from null JSON");
        }
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new SpecException("invalid " + type.getSimpleName() + " JSON " + abbreviate(json) + ": "
                    + reason(e) + where(e), e);
        }
    }

    public static DistSpec readDistSpec(String json) {
        return read(json, DistSpec.class);
    }

    public static ComputeSpec readComputeSpec(String json) {
        return read(json, ComputeSpec.class);
    }

    public static ProcessGroup readProcessGroup(String json) {
        return read(json, ProcessGroup.class);
    }

    /** Enough of the input to recognise it, without flooding a log with a whole plan file. */
    private static String abbreviate(String json) {
        return json.length() <= MAX_ECHOED_CHARS ? json : json.substring(0, MAX_ECHOED_CHARS) + "...";
    }

    /** Our own validation message where a spec constructor refused the values, else Jackson's. */
    private static String reason(JsonProcessingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SpecException spec) {
                return spec.getMessage();
            }
        }
        return e.getOriginalMessage();
    }

    private static String where(JsonProcessingException e) {
        if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            StringBuilder path = new StringBuilder(" (at $");
            for (JsonMappingException.Reference ref : mapping.getPath()) {
                if (ref.getFieldName() != null) {
                    path.append('.').append(ref.getFieldName());
                } else if (ref.getIndex() >= 0) {
                    path.append('[').append(ref.getIndex()).append(']');
                }
            }
            return path.append(')').toString();
        }
        return "";
    }
}

package io.colo4j.zoo.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.io.InputFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * How one family's config record is read from and written to HF's config.json, by Jackson data binding:
 * the record's components are HF's names in camelCase (one naming rule, snake_case in the file, unless a
 * component says otherwise with {@code @JsonProperty}); a field the file lacks (or holds as
 * null) takes its value from {@code defaults} (HF's defaults), or from a {@link Derived} rule when HF
 * derives it from another field; fields HF has but the record does not are {@link Fixed}: written as
 * their one supported value and refused when a file holds another. Unknown fields are ignored, as HF
 * keeps them as plain attributes. Ints must be JSON integers (no 1.5, no "12"); a number that float32 cannot
 * hold (1e300) is refused, not read as infinity; anything after the one JSON object is refused.
 *
 * @param type      the record
 * @param modelType HF's model_type (a file naming another is refused)
 * @param positions the field that bounds the sequence length (n_positions, max_position_embeddings)
 * @param defaults  HF's defaults for every component
 * @param derived   components whose default follows from other fields
 * @param fixed     the fields without a component, in the order written after the components
 */
public record HfConfigFormat<C extends Record & HfConfig>(Class<C> type, String modelType, String positions, C defaults,
                                                          List<Derived> derived, List<Fixed> fixed) {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private static final Map<Class<?>, HfConfigFormat<?>> BY_TYPE = new ConcurrentHashMap<>();

    public HfConfigFormat {
        derived = List.copyOf(derived);
        fixed = List.copyOf(fixed);
        BY_TYPE.put(type, this);
    }

    /** The format a config record's class declares (its static FORMAT, created when the class initialises). */
    static HfConfigFormat<?> of(Class<?> type) {
        HfConfigFormat<?> format = BY_TYPE.get(type);
        if (format == null) {
            throw new IllegalStateException(type.getName() + " declares no HfConfigFormat");
        }
        return format;
    }

    /** The value of the positions field of {@code config}. */
    int maxPositions(HfConfig config) {
        return fieldsOf(config).get(positions).asInt();
    }

    /**
     * A component whose value, when the file lacks it, follows from the file and the merged components
     * (HF's own derivation, e.g. num_key_value_heads = num_attention_heads); null keeps the default.
     */
    public record Derived(String field, BiFunction<JsonNode, ObjectNode, JsonNode> from) {}

    /**
     * A config.json field the record has no component for.
     *
     * @param field    its name
     * @param written  what we write (absent: not written)
     * @param accepts  whether a file's value (never null here) is one the model supports, given all the fields
     * @param supports what to say when it is not
     */
    public record Fixed(String field, JsonNode written, Accepts accepts, String supports) {
        /** Whether {@code value} is supported, seen with the whole config (file over defaults). */
        @FunctionalInterface
        public interface Accepts {
            boolean test(JsonNode value, ObjectNode config);
        }

        /** Written as {@code value}; a file may hold it or one of {@code alsoAccepted}. */
        public static Fixed written(String field, Object value, Object... alsoAccepted) {
            JsonNode v = JSON.valueToTree(value);
            List<JsonNode> ok = new java.util.ArrayList<>(List.of(v));
            for (Object a : alsoAccepted) {
                ok.add(JSON.valueToTree(a));
            }
            return new Fixed(field, v, (x, c) -> ok.contains(x), "only " + values(ok));
        }

        /** Not written; a file may hold only {@code value}. */
        public static Fixed checked(String field, Object value, String why) {
            JsonNode v = JSON.valueToTree(value);
            return new Fixed(field, null, (x, c) -> x.equals(v), why);
        }

        /** Written as given, never checked (e.g. architectures). */
        public static Fixed informative(String field, Object value) {
            return new Fixed(field, JSON.valueToTree(value), (x, c) -> true, "");
        }

        private static String values(List<JsonNode> nodes) {
            return String.join(", ", nodes.stream().map(n -> n.isTextual() ? n.asText() : n.toString()).toList());
        }
    }

    /** Reads a config.json file; bad JSON or a refused field is an IOException naming the file. */
    public C read(Path configJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(InputFiles.readUtf8(configJson, "config"));
        } catch (JacksonException e) {
            throw new IOException(configJson + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** Config JSON text as the record; bad JSON is an IOException, a refused field an IllegalArgumentException. */
    public C parse(String json) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new IOException(modelType + " config: not valid JSON: " + e.getOriginalMessage(), e);
        }
        return fromJson(root);
    }

    private C fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        String type = root.path("model_type").asText(modelType);
        if (!type.equals(modelType)) {
            throw new IllegalArgumentException("model_type is '" + type + "', not " + modelType);
        }
        ObjectNode merged = JSON.valueToTree(defaults);
        root.properties().forEach(e -> {
            if (!e.getValue().isNull() && merged.has(e.getKey())) {
                JsonNode v = e.getValue();
                // Jackson would turn 1e300 into Infinity in a float component without a word
                if (v.isFloatingPointNumber() && !Float.isFinite(v.floatValue())) {
                    throw new IllegalArgumentException(e.getKey() + " " + v + " is not a finite float32");
                }
                merged.set(e.getKey(), v);
            }
        });
        for (Derived d : derived) {
            JsonNode given = root.get(d.field());
            JsonNode value = d.from().apply(root, merged);
            if ((given == null || given.isNull()) && value != null && !value.isNull()) {
                merged.set(d.field(), value);
            }
        }
        for (Fixed f : fixed) {
            JsonNode value = root.get(f.field());
            if (value != null && !value.isNull() && !f.accepts().test(value, merged)) {
                throw new IllegalArgumentException(f.field() + " " + (value.isTextual() ? "'" + value.asText() + "'" : value)
                        + " is not supported (" + f.supports() + ")");
            }
        }
        return bind(merged);
    }

    private C bind(ObjectNode fields) {
        try {
            return JSON.treeToValue(fields, type);
        } catch (ValueInstantiationException e) {
            if (e.getCause() instanceof IllegalArgumentException refused) {
                throw refused;
            }
            throw new IllegalArgumentException(e.getOriginalMessage(), e);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(e.getOriginalMessage(), e);
        }
    }

    /** HF-style config.json content: model_type, then the components, then the fixed fields. */
    public String toJson(HfConfig config) {
        ObjectNode o = JSON.createObjectNode();
        o.put("model_type", modelType);
        o.setAll((ObjectNode) JSON.valueToTree(config));
        for (Fixed f : fixed) {
            if (f.written() != null) {
                o.set(f.field(), f.written());
            }
        }
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code config} with the given HF fields replaced (e.g. {@code "n_layer" -> 3}), validated as a read config is. */
    public C with(C config, Map<String, ?> fields) {
        ObjectNode o = JSON.valueToTree(config);
        fields.forEach((name, value) -> {
            if (!o.has(name)) {
                throw new IllegalArgumentException(modelType + " config has no field " + name + "; it has " + names(o));
            }
            o.set(name, JSON.valueToTree(value));
        });
        return bind(o);
    }

    /** {@code config} with one HF field replaced. */
    public C with(C config, String field, Object value) {
        return with(config, Map.of(field, value));
    }

    /** {@code config} with every field in {@code fields} set to {@code value} (e.g. all dropout probabilities). */
    public C withAll(C config, List<String> fields, Object value) {
        Map<String, Object> all = new LinkedHashMap<>();
        fields.forEach(f -> all.put(f, value));
        return with(config, all);
    }

    /** The config's fields under HF's names (a copy). */
    public ObjectNode fields(C config) {
        return JSON.valueToTree(config);
    }

    /** As {@link #fields}, for a config known only as an {@link HfConfig} (of this format's record type). */
    public ObjectNode fieldsOf(HfConfig config) {
        return fields(type.cast(config));
    }

    private static List<String> names(ObjectNode o) {
        return o.properties().stream().map(Map.Entry::getKey).toList();
    }
}

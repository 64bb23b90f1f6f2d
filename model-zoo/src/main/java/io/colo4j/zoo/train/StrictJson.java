package io.colo4j.zoo.train;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a JSON file that colo4j wrote, trusting nothing: one document and nothing after it, no key twice, and
 * each field fetched with its type and range, or an {@link IOException} naming the file and the field (dotted,
 * with indices: {@code train_config.batch}, {@code losses[3]}).
 */
public final class StrictJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path file;
    private final JsonNode root;

    private StrictJson(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    public static StrictJson read(Path file) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": not a JSON object");
        }
        return new StrictJson(file, root);
    }

    public JsonNode root() {
        return root;
    }

    /** An error about {@code field} of this file. */
    public IOException error(String field, String problem) {
        return new IOException(file + ": field '" + field + "' " + problem);
    }

    public JsonNode field(JsonNode parent, String at, String name) throws IOException {
        JsonNode v = parent.get(name);
        if (v == null) {
            throw new IOException(file + ": missing field '" + join(at, name) + "'");
        }
        return v;
    }

    public JsonNode object(JsonNode parent, String at, String name) throws IOException {
        JsonNode v = field(parent, at, name);
        if (!v.isObject()) {
            throw error(join(at, name), "is " + v + ", not an object");
        }
        return v;
    }

    public JsonNode array(JsonNode parent, String at, String name, long size) throws IOException {
        JsonNode v = field(parent, at, name);
        if (!v.isArray()) {
            throw error(join(at, name), "is " + abbreviate(v) + ", not an array");
        }
        if (v.size() != size) {
            throw error(join(at, name), "has " + v.size() + " entries, expected " + size);
        }
        return v;
    }

    public String text(JsonNode parent, String at, String name) throws IOException {
        JsonNode v = field(parent, at, name);
        if (!v.isTextual()) {
            throw error(join(at, name), "is " + v + ", not a string");
        }
        return v.textValue();
    }

    public long integer(JsonNode parent, String at, String name, long min, long max) throws IOException {
        return integer(field(parent, at, name), join(at, name), min, max);
    }

    public long integer(JsonNode v, String field, long min, long max) throws IOException {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw error(field, "is " + v + ", not an integer");
        }
        long x = v.longValue();
        if (x < min || x > max) {
            throw error(field, "is " + x + ", outside " + min + ".." + max);
        }
        return x;
    }

    /** A finite number no smaller than {@code min}. */
    public double number(JsonNode v, String field, double min) throws IOException {
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw error(field, "is " + v + ", not a finite number");
        }
        if (v.doubleValue() < min) {
            throw error(field, "is " + v.doubleValue() + ", below " + min);
        }
        return v.doubleValue();
    }

    public double number(JsonNode parent, String at, String name, double min) throws IOException {
        return number(field(parent, at, name), join(at, name), min);
    }

    private static String join(String at, String name) {
        return at.isEmpty() ? name : at + "." + name;
    }

    private static String abbreviate(JsonNode v) {
        String s = v.toString();
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}

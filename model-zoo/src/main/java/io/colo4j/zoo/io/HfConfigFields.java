package io.colo4j.zoo.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/** Reading and writing the fields of HuggingFace config.json files, shared by every zoo family's config. */
public final class HfConfigFields {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfConfigFields() {}

    /** A config.json file through {@code fromJson}; bad JSON or a rejected field is an IOException naming the file. */
    public static <C> C read(Path file, Function<JsonNode, C> fromJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JacksonException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        try {
            return fromJson.apply(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Config JSON text through {@code fromJson}; {@code family} names it in the error. */
    public static <C> C parse(String json, String family, Function<JsonNode, C> fromJson) throws IOException {
        try {
            return fromJson.apply(JSON.readTree(json));
        } catch (JacksonException e) {
            throw new IOException(family + " config: not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** {@code root.name} as an int, {@code dflt} when absent or null; anything else is an error naming the field. */
    public static int intField(JsonNode root, String name, int dflt) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException(name + " is " + n + ", not an int");
        }
        return n.intValue();
    }

    public static double doubleField(JsonNode root, String name, double dflt) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException(name + " is " + n + ", not a number");
        }
        return n.doubleValue();
    }

    public static float floatField(JsonNode root, String name, float dflt) {
        return (float) doubleField(root, name, dflt);
    }

    /** A float written as its shortest decimal (1e-5, not 9.999999747378752e-6), as HF's files have it. */
    public static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }
}

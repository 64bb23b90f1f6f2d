package io.colo4j.zoo.io;

import com.fasterxml.jackson.databind.JsonNode;

/** Reading and writing the fields of HuggingFace config.json files, shared by every zoo family's config. */
public final class HfConfigFields {
    private HfConfigFields() {}

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

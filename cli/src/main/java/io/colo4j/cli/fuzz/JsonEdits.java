package io.colo4j.cli.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/** JSON text with one field set to a hostile value; the values every JSON corpus draws from. */
final class JsonEdits {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Raw JSON values: wrong types, out of range, overflowing, empty. */
    static final String[] HOSTILE_VALUES = {"0", "-1", "1", "2", "3", "65", "257", "2147483647", "-2147483648", "9223372036854775807",
        "99999999999999999999", "1e9", "1e300", "-1e300", "1.5", "\"abc\"", "\"\"", "null", "true", "[]", "{}", "\"NaN\"", "[1, 2]"};

    private JsonEdits() {}

    static ObjectNode parse(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode value(String raw) {
        try {
            return JSON.readTree(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code json} with {@code field} set to the raw JSON {@code value}. */
    static String with(String json, String field, String value) {
        ObjectNode o = parse(json);
        o.set(field, value(value));
        return o.toPrettyString();
    }

    static String randomValue(SplittableRandom rng) {
        return HOSTILE_VALUES[rng.nextInt(HOSTILE_VALUES.length)];
    }

    /** 1-4 random bytes of {@code text} replaced, or the text cut anywhere: may still parse, or not. */
    static byte[] damage(byte[] text, SplittableRandom rng) {
        if (rng.nextInt(3) == 0) {
            return java.util.Arrays.copyOf(text, rng.nextInt(text.length));
        }
        byte[] b = text.clone();
        for (int i = 0, n = 1 + rng.nextInt(4); i < n; i++) {
            b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
        }
        return b;
    }
}

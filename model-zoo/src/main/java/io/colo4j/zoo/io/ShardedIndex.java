package io.colo4j.zoo.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.json.SpecJson;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.zoo.train.StrictJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A sharded checkpoint's {@code index.json} read strictly: its format, the tp it was saved at, and per parameter a
 * spec that lays out its global shape at that tp and a valid shape inside the global one; anything else is an
 * {@link IOException} naming the file and the field, before a shard is opened.
 */
record ShardedIndex(int tp, Map<String, Entry> parameters) {
    /** The most ranks a checkpoint may name shards for: far above any tp, far below a number of files that hurts. */
    static final int MAX_TP = 1 << 16;
    /** The most dimensions a parameter may have. */
    static final int MAX_RANK = 8;

    /** One parameter: how it was cut (spec over its global shape at tp) and its shape without padding. */
    record Entry(ShardLayout layout, int[] valid) {}

    static ShardedIndex read(Path file) throws IOException {
        StrictJson json = StrictJson.read(file);
        String format = json.text(json.root(), "", "format");
        if (!ShardedCheckpoint.FORMAT.equals(format)) {
            throw json.error("format", "is '" + format + "': not a colo4j sharded checkpoint ('" + ShardedCheckpoint.FORMAT + "')");
        }
        int tp = (int) json.integer(json.root(), "", "tp", 1, MAX_TP);
        Map<String, Entry> parameters = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> p : json.object(json.root(), "", "parameters").properties()) {
            String at = "parameters." + p.getKey();
            if (!p.getValue().isObject()) {
                throw json.error(at, "is " + p.getValue() + ", not an object");
            }
            int[] global = shape(json, p.getValue(), at, "global_shape", null);
            int[] valid = shape(json, p.getValue(), at, "valid_shape", global);
            DistSpec spec;
            ShardLayout layout;
            try {
                spec = SpecJson.mapper().treeToValue(json.field(p.getValue(), at, "spec"), DistSpec.class);
                layout = ShardLayout.of(p.getKey(), global, spec, tp);
            } catch (IOException | RuntimeException e) {
                throw json.error(at + ".spec", "does not lay out " + java.util.Arrays.toString(global) + " on " + tp + " ranks: "
                        + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            }
            parameters.put(p.getKey(), new Entry(layout, valid));
        }
        return new ShardedIndex(tp, parameters);
    }

    /** A shape field: positive ints, at most {@link #MAX_RANK}; with {@code within}, as many and none larger. */
    private static int[] shape(StrictJson json, JsonNode entry, String at, String name, int[] within) throws IOException {
        JsonNode v = json.field(entry, at, name);
        String field = at + "." + name;
        if (!v.isArray() || v.size() > MAX_RANK || (within != null && v.size() != within.length)) {
            throw json.error(field, "is " + v + ", not an array of " + (within != null ? within.length : "at most " + MAX_RANK) + " sizes");
        }
        int[] out = new int[v.size()];
        for (int d = 0; d < out.length; d++) {
            out[d] = (int) json.integer(v.get(d), field + "[" + d + "]", 1, within != null ? within[d] : Integer.MAX_VALUE);
        }
        return out;
    }
}

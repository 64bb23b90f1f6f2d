package io.colo4j.zoo.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint's {@code trainer.json} as read back ({@link TrainCheckpoint#write} writes it): every field present
 * with its type and range, one loss, learning rate and gradient norm per completed step, each optimizer step count
 * between 0 and the step, the skipped steps (optional: absent before --skip-nonfinite existed) increasing and below
 * the step, a null loss or gradient norm only at a skipped step; anything else is refused naming the file and the
 * field, before a resumed run changes.
 */
record TrainState(long step, int batch, int seq, long seed, JsonNode modelConfig, String dataSource, long dataTokens,
                  long dataCrc32, List<Float> losses, List<Double> lrs, List<Double> gradNorms, List<Long> skippedSteps,
                  Map<String, Long> optimizerSteps, double elapsedSeconds) {

    static TrainState read(Path file, String format) throws IOException {
        StrictJson json = StrictJson.read(file);
        JsonNode root = json.root();
        String found = json.text(root, "", "format");
        if (!format.equals(found)) {
            throw new IOException(file + ": not a colo4j training checkpoint (format '" + found + "', expected '" + format + "')");
        }
        long step = json.integer(root, "", "step", 0, Integer.MAX_VALUE);
        JsonNode tc = json.object(root, "", "train_config");
        JsonNode data = json.object(root, "", "data");
        List<Long> skipped = SkippedSteps.read(json, root, step);
        List<Float> losses = new ArrayList<>();
        Set<Long> skippedSet = new HashSet<>(skipped);
        for (double v : numbers(json, root, "losses", step, Double.NEGATIVE_INFINITY, skippedSet)) {
            losses.add((float) v);
        }
        Map<String, Long> optimizerSteps = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : json.object(root, "", "optimizer_steps").properties()) {
            optimizerSteps.put(e.getKey(), json.integer(e.getValue(), "optimizer_steps." + e.getKey(), 0, step));
        }
        return new TrainState(step,
                (int) json.integer(tc, "train_config", "batch", 1, Integer.MAX_VALUE),
                (int) json.integer(tc, "train_config", "seq", 1, Integer.MAX_VALUE),
                json.integer(tc, "train_config", "seed", Long.MIN_VALUE, Long.MAX_VALUE),
                json.object(root, "", "model_config"),
                json.text(data, "data", "source"),
                json.integer(data, "data", "tokens", 0, Long.MAX_VALUE),
                json.integer(data, "data", "crc32", 0, 0xFFFF_FFFFL),
                Collections.unmodifiableList(losses),
                numbers(json, root, "lrs", step, 0, Set.of()),
                numbers(json, root, "grad_norms", step, 0, skippedSet),
                skipped,
                Collections.unmodifiableMap(optimizerSteps),
                json.number(root, "", "elapsed_seconds", 0));
    }

    /** The array {@code name}: one finite number (at least {@code min}) per completed step, or null (NaN) at a skipped step. */
    private static List<Double> numbers(StrictJson json, JsonNode root, String name, long step, double min, Set<Long> skipped)
            throws IOException {
        List<Double> out = new ArrayList<>();
        int i = 0;
        for (JsonNode v : json.array(root, "", name, step)) {
            out.add(v.isNull() && skipped.contains((long) i) ? Double.NaN : json.number(v, name + "[" + i + "]", min));
            i++;
        }
        return Collections.unmodifiableList(out);
    }
}

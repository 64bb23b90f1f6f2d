package io.colo4j.zoo.opt;

import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.io.SafeTensorsException;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.io.ShardReads;
import io.colo4j.zoo.io.SafeTensorsWriter;
import io.colo4j.zoo.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * HF model folders for OPT: {@code config.json} + {@code model.safetensors}.
 *
 * <p>Loading accepts both key styles (OPTForCausalLM: {@code model.decoder.layers.0.fc1.weight}; the
 * bare OPTModel, as some facebook/opt-* checkpoints are stored: {@code decoder.layers.0.fc1.weight}),
 * and accepts {@code lm_head.weight} only when it is embed_tokens-shaped (the tied head) and then
 * ignores it. Missing, unexpected, duplicate, mis-shaped or unreadable tensors are reported, all names
 * at once, before any parameter is written. Saving writes {@code model.}-prefixed keys and no
 * lm_head (tied), as HF's save_pretrained does.
 */
public final class OptCheckpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    private static final String PREFIX = "model.";

    private OptCheckpoint() {}

    /** Reads {@code dir/config.json}. */
    public static OptConfig readConfig(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new IOException(dir + ": not an OPT model folder (no " + CONFIG + ")");
        }
        return OptConfig.read(config);
    }

    /** A model built from {@code dir/config.json} with the weights of {@code dir/model.safetensors}. */
    public static OptModel load(Path dir) throws IOException {
        OptConfig config = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            OptModel model = new OptModel(config, 0L);
            Map<String, String> plan = plan(reader, ShardReads.fullShapes(model));
            ShardReads.readPlanned(reader, plan, model);
            return model;
        }
    }

    /** Overwrites {@code model}'s parameters with {@code weights} (a model.safetensors); nothing is written unless all fit. */
    public static void loadWeights(OptModel model, Path weights) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            Map<String, String> plan = plan(reader, ShardReads.fullShapes(model));
            ShardReads.readPlanned(reader, plan, model);
        }
    }

    /** The parameter each file tensor goes to, after every check has passed: model name -> file name. */
    static Map<String, String> plan(SafeTensorsReader reader, Map<String, int[]> expected) throws SafeTensorsException {
        Map<String, String> plan = new LinkedHashMap<>();
        TreeSet<String> unexpected = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        int[] embedShape = expected.get("model.decoder.embed_tokens.weight");
        for (TensorInfo info : reader.tensors().values()) {
            String name = info.name();
            if (name.equals("lm_head.weight")) {
                if (!Arrays.equals(info.shape(), embedShape)) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but a tied head must match embed_tokens "
                            + Arrays.toString(embedShape) + " (untied LM heads are not supported)");
                }
                continue;
            }
            String key = name.startsWith(PREFIX) ? name : PREFIX + name;
            if (!expected.containsKey(key)) {
                unexpected.add(name);
                continue;
            }
            String previous = plan.putIfAbsent(key, name);
            if (previous != null) {
                problems.add("'" + previous + "' and '" + name + "' both name parameter " + key);
                continue;
            }
            if (!Arrays.equals(info.shape(), expected.get(key))) {
                problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but the model expects "
                        + Arrays.toString(expected.get(key)));
            }
            if (!info.dtype().convertsToFloat()) {
                problems.add("'" + name + "' has dtype " + info.dtype() + ", which cannot be read as float32");
            }
        }
        TreeSet<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(plan.keySet());
        if (!missing.isEmpty()) {
            problems.add(0, "missing tensors " + missing);
        }
        if (!unexpected.isEmpty()) {
            problems.add(0, "unexpected tensors " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new SafeTensorsException(reader.file(), null, "does not fit the OPT model: " + String.join("; ", problems));
        }
        return plan;
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors} with HF's OPTForCausalLM names (no tied lm_head). */
    public static void save(OptModel model, Path dir) throws IOException {
        save(model, dir, false);
    }

    /** As {@link #save(OptModel, Path)}; with {@code bareNames} the keys lack the {@code model.} prefix (OPTModel style). */
    public static void save(OptModel model, Path dir, boolean bareNames) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) ->
                state.put(bareNames && name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name, p));
        SafeTensorsWriter.write(dir.resolve(WEIGHTS), state, Map.of("format", "pt"));
        model.config().write(dir.resolve(CONFIG));
    }
}

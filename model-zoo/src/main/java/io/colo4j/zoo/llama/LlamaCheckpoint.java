package io.colo4j.zoo.llama;

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
import java.util.regex.Pattern;

/**
 * HF model folders for Llama: {@code config.json} + {@code model.safetensors} with LlamaForCausalLM's
 * keys ({@code model.layers.0.self_attn.q_proj.weight}, {@code lm_head.weight}). The
 * {@code rotary_emb.inv_freq} buffers older transformers saved are ignored (they are recomputed from
 * rope_theta). Missing, unexpected, duplicate, mis-shaped or unreadable tensors are reported, all names
 * at once, before any parameter is written.
 */
public final class LlamaCheckpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    private static final Pattern INV_FREQ = Pattern.compile("(model\\.)?layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq");

    private LlamaCheckpoint() {}

    /** Reads {@code dir/config.json}. */
    public static LlamaConfig readConfig(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new IOException(dir + ": not a Llama model folder (no " + CONFIG + ")");
        }
        return LlamaConfig.read(config);
    }

    /** A model built from {@code dir/config.json} with the weights of {@code dir/model.safetensors}. */
    public static LlamaModel load(Path dir) throws IOException {
        LlamaConfig config = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            LlamaModel model = new LlamaModel(config, 0L);
            Map<String, String> plan = plan(reader, ShardReads.fullShapes(model));
            ShardReads.readPlanned(reader, plan, model);
            return model;
        }
    }

    /** Overwrites {@code model}'s parameters with {@code weights} (a model.safetensors); nothing is written unless all fit. */
    public static void loadWeights(LlamaModel model, Path weights) throws IOException {
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
        for (TensorInfo info : reader.tensors().values()) {
            String name = info.name();
            if (INV_FREQ.matcher(name).matches()) {
                continue;
            }
            if (!expected.containsKey(name)) {
                unexpected.add(name);
                continue;
            }
            plan.put(name, name);
            if (!Arrays.equals(info.shape(), expected.get(name))) {
                problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but the model expects "
                        + Arrays.toString(expected.get(name)));
            }
            if (!info.dtype().convertsToFloat()) {
                problems.add("'" + name + "' has dtype " + info.dtype() + ", which cannot be read as float32");
            }
        }
        TreeSet<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(plan.keySet());
        if (!missing.isEmpty()) {
            problems.add(0, "missing tensors " + missing + (missing.contains("lm_head.weight")
                    ? " (a tied LM head, tie_word_embeddings true, is not supported)" : ""));
        }
        if (!unexpected.isEmpty()) {
            problems.add(0, "unexpected tensors " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new SafeTensorsException(reader.file(), null, "does not fit the Llama model: " + String.join("; ", problems));
        }
        return plan;
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors} with HF's LlamaForCausalLM names. */
    public static void save(LlamaModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = new LinkedHashMap<>(model.namedParameters());
        SafeTensorsWriter.write(dir.resolve(WEIGHTS), state, Map.of("format", "pt"));
        model.config().write(dir.resolve(CONFIG));
    }
}

package io.colo4j.zoo.gpt2;

import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.io.SafeTensorsException;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.io.ShardReads;
import io.colo4j.zoo.io.SafeTensorsWriter;
import io.colo4j.zoo.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * HF model folders for GPT-2: {@code config.json} + {@code model.safetensors}.
 *
 * <p>Loading accepts both key styles (hub: {@code h.0.attn.c_attn.weight}; exported:
 * {@code transformer.h.0.attn.c_attn.weight}), ignores the {@code h.N.attn.bias} / {@code masked_bias}
 * causal-mask buffers, and accepts {@code lm_head.weight} only when it is wte-shaped (the tied head) and
 * then ignores it. Missing, unexpected, duplicate, mis-shaped or unreadable tensors are reported, all
 * names at once, before any parameter is written.
 */
public final class Gpt2Checkpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    private static final Pattern MASK_BUFFER = Pattern.compile("(transformer\\.)?h\\.\\d+\\.attn\\.(bias|masked_bias)");
    private static final Pattern LM_HEAD = Pattern.compile("(transformer\\.)?lm_head\\.weight");

    private Gpt2Checkpoint() {}

    /** Reads {@code dir/config.json}. */
    public static Gpt2Config readConfig(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new IOException(dir + ": not a GPT-2 model folder (no " + CONFIG + ")");
        }
        return Gpt2Config.read(config);
    }

    /** A model built from {@code dir/config.json} with the weights of {@code dir/model.safetensors}. */
    public static Gpt2Model load(Path dir) throws IOException {
        Gpt2Config config = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            Map<String, String> plan = plan(reader, expectedShapes(config));
            Gpt2Model model = new Gpt2Model(config, 0L);
            ShardReads.readPlanned(reader, plan, model);
            return model;
        }
    }

    /** Overwrites {@code model}'s parameters with {@code weights} (a model.safetensors); nothing is written unless all fit. */
    public static void loadWeights(Gpt2Model model, Path weights) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            Map<String, String> plan = plan(reader, ShardReads.fullShapes(model));
            ShardReads.readPlanned(reader, plan, model);
        }
    }

    /** The parameter each file tensor goes to, after every check has passed: model name -> file name. */
    static Map<String, String> plan(SafeTensorsReader reader, Map<String, int[]> expected) throws SafeTensorsException {
        Path file = reader.file();
        Map<String, String> plan = new LinkedHashMap<>();
        TreeSet<String> unexpected = new TreeSet<>();
        List<String> problems = new java.util.ArrayList<>();
        int[] wteShape = expected.get("transformer.wte.weight");
        for (TensorInfo info : reader.tensors().values()) {
            String name = info.name();
            if (MASK_BUFFER.matcher(name).matches()) {
                continue;
            }
            if (LM_HEAD.matcher(name).matches()) {
                if (!Arrays.equals(info.shape(), wteShape)) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but a tied head must match wte "
                            + Arrays.toString(wteShape) + " (untied LM heads are not supported)");
                }
                continue;
            }
            String key = name.startsWith("transformer.") ? name : "transformer." + name;
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
            throw new SafeTensorsException(file, null, "does not fit the GPT-2 model: " + String.join("; ", problems));
        }
        return plan;
    }

    private static Map<String, int[]> expectedShapes(Gpt2Config config) {
        Map<String, int[]> out = new LinkedHashMap<>();
        int d = config.nEmbd();
        out.put("transformer.wte.weight", new int[] {config.vocabSize(), d});
        out.put("transformer.wpe.weight", new int[] {config.nPositions(), d});
        for (int i = 0; i < config.nLayer(); i++) {
            String p = "transformer.h." + i + ".";
            out.put(p + "ln_1.weight", new int[] {d});
            out.put(p + "ln_1.bias", new int[] {d});
            out.put(p + "attn.c_attn.weight", new int[] {d, 3 * d});
            out.put(p + "attn.c_attn.bias", new int[] {3 * d});
            out.put(p + "attn.c_proj.weight", new int[] {d, d});
            out.put(p + "attn.c_proj.bias", new int[] {d});
            out.put(p + "ln_2.weight", new int[] {d});
            out.put(p + "ln_2.bias", new int[] {d});
            out.put(p + "mlp.c_fc.weight", new int[] {d, config.nInner()});
            out.put(p + "mlp.c_fc.bias", new int[] {config.nInner()});
            out.put(p + "mlp.c_proj.weight", new int[] {config.nInner(), d});
            out.put(p + "mlp.c_proj.bias", new int[] {d});
        }
        out.put("transformer.ln_f.weight", new int[] {d});
        out.put("transformer.ln_f.bias", new int[] {d});
        return out;
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors} with {@code transformer.}-prefixed names. */
    public static void save(Gpt2Model model, Path dir) throws IOException {
        save(model, dir, false);
    }

    /** As {@link #save(Gpt2Model, Path)}; with {@code hubNames} the keys lack the {@code transformer.} prefix, as published on the hub. */
    public static void save(Gpt2Model model, Path dir, boolean hubNames) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) ->
                state.put(hubNames && name.startsWith("transformer.") ? name.substring("transformer.".length()) : name, p));
        SafeTensorsWriter.write(dir.resolve(WEIGHTS), state, Map.of("format", "pt"));
        model.config().write(dir.resolve(CONFIG));
    }
}

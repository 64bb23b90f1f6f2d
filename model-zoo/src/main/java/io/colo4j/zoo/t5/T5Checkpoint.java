package io.colo4j.zoo.t5;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.io.SafeTensorsException;
import io.colo4j.zoo.io.SafeTensorsReader;
import io.colo4j.zoo.io.SafeTensorsWriter;
import io.colo4j.zoo.io.ShardReads;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HF model folders for T5: {@code config.json} + {@code model.safetensors}, with HF's names, so a folder
 * written here loads into HF's T5ForConditionalGeneration and one of HF's loads here.
 *
 * <p>The model's fused cross-attention {@code EncDecAttention.key_value.weight} [2 inner, d_model] is
 * written as HF's {@code EncDecAttention.k.weight} and {@code v.weight} (its two halves) and assembled
 * from them on load (a folder holding {@code key_value.weight} itself is read too). Loading ignores
 * the tied copies of {@code shared}: {@code encoder.embed_tokens.weight},
 * {@code decoder.embed_tokens.weight} and {@code lm_head.weight} (each must be shared-shaped; one
 * stands in for {@code shared.weight} when that is absent). Missing, unexpected, duplicate, mis-shaped
 * or unreadable tensors are reported, all at once, before any parameter is written. Loading into a
 * sharded model reads each rank's shard only (a fused key_value reads k and v whole, then keeps its shard).
 */
public final class T5Checkpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    private static final String SHARED = "shared.weight";
    private static final List<String> TIED = List.of("encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight");
    private static final Pattern HF_KV = Pattern.compile("(decoder\\.block\\.\\d+\\.layer\\.1\\.EncDecAttention)\\.([kv])\\.weight");
    private static final String KEY_VALUE = ".key_value.weight";

    private T5Checkpoint() {}

    /** Reads {@code dir/config.json}. */
    public static T5Config readConfig(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new IOException(dir + ": not a T5 model folder (no " + CONFIG + ")");
        }
        return T5Config.read(config);
    }

    /** A model built from {@code dir/config.json} with the weights of {@code dir/model.safetensors}. */
    public static T5ForConditionalGeneration load(Path dir) throws IOException {
        T5Config config = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        T5ForConditionalGeneration model = new T5ForConditionalGeneration(config, 0L);
        loadWeights(model, weights);
        return model;
    }

    /** Where each parameter comes from: one file tensor, or (a fused key_value) HF's k and v. */
    record Source(String file, String k, String v) {
        boolean fused() {
            return file == null;
        }
    }

    /** Overwrites {@code model}'s parameters with {@code weights} (a model.safetensors); nothing is written unless all fit. */
    public static void loadWeights(T5ForConditionalGeneration model, Path weights) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            Map<String, int[]> expected = new LinkedHashMap<>();
            model.namedParameters().forEach((name, p) -> expected.put(name, p.fullShape()));
            Map<String, Source> plan = plan(reader, expected);
            Map<String, Parameter> params = model.namedParameters();
            for (Map.Entry<String, Source> e : plan.entrySet()) {
                Parameter p = params.get(e.getKey());
                Source s = e.getValue();
                if (!s.fused()) {
                    ShardReads.readParameter(reader, s.file(), p);
                    continue;
                }
                Tensor full = Tensor.cat(0, reader.read(s.k()), reader.read(s.v()));
                Tensor mine = ShardReads.sliceLike(full, p);
                try (GradMode.Guard ignored = GradMode.disabled()) {
                    p.copyFrom(mine);
                }
            }
        }
    }

    static Map<String, Source> plan(SafeTensorsReader reader, Map<String, int[]> expected) throws SafeTensorsException {
        Map<String, Source> plan = new LinkedHashMap<>();
        Map<String, String[]> halves = new LinkedHashMap<>();
        TreeSet<String> unexpected = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        int[] sharedShape = expected.get(SHARED);
        String alias = null;
        for (TensorInfo info : reader.tensors().values()) {
            String name = info.name();
            if (!info.dtype().convertsToFloat()) {
                problems.add("'" + name + "' has dtype " + info.dtype() + ", which cannot be read as float32");
            }
            if (TIED.contains(name)) {
                if (!Arrays.equals(info.shape(), sharedShape)) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but a tied copy of shared must be "
                            + Arrays.toString(sharedShape) + " (untied heads and embeddings are not supported)");
                } else if (alias == null) {
                    alias = name;
                }
                continue;
            }
            Matcher kv = HF_KV.matcher(name);
            if (kv.matches() && expected.containsKey(kv.group(1) + KEY_VALUE)) {
                int[] fused = expected.get(kv.group(1) + KEY_VALUE);
                int[] half = {fused[0] / 2, fused[1]};
                if (!Arrays.equals(info.shape(), half)) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but the model expects "
                            + Arrays.toString(half));
                }
                halves.computeIfAbsent(kv.group(1), x -> new String[2])[kv.group(2).equals("k") ? 0 : 1] = name;
                continue;
            }
            if (!expected.containsKey(name)) {
                unexpected.add(name);
                continue;
            }
            plan.put(name, new Source(name, null, null));
            if (!Arrays.equals(info.shape(), expected.get(name))) {
                problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but the model expects "
                        + Arrays.toString(expected.get(name)));
            }
        }
        if (!plan.containsKey(SHARED) && alias != null) {
            plan.put(SHARED, new Source(alias, null, null));
        }
        TreeSet<String> missing = new TreeSet<>();
        for (String name : expected.keySet()) {
            if (plan.containsKey(name)) {
                if (name.endsWith(KEY_VALUE) && halves.containsKey(name.substring(0, name.length() - KEY_VALUE.length()))) {
                    problems.add("'" + name + "' and HF's k/v weights both give " + name);
                }
                continue;
            }
            if (name.endsWith(KEY_VALUE)) {
                String prefix = name.substring(0, name.length() - KEY_VALUE.length());
                String[] kv = halves.getOrDefault(prefix, new String[2]);
                if (kv[0] != null && kv[1] != null) {
                    plan.put(name, new Source(null, kv[0], kv[1]));
                    continue;
                }
                if (kv[0] == null) {
                    missing.add(prefix + ".k.weight");
                }
                if (kv[1] == null) {
                    missing.add(prefix + ".v.weight");
                }
                continue;
            }
            missing.add(name);
        }
        if (!missing.isEmpty()) {
            problems.add(0, "missing tensors " + missing);
        }
        if (!unexpected.isEmpty()) {
            problems.add(0, "unexpected tensors " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new SafeTensorsException(reader.file(), null, "does not fit the T5 model: " + String.join("; ", problems));
        }
        return plan;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} with HF T5ForConditionalGeneration
     * names: the fused key_value as its k and v halves, the tied head and embed_tokens not repeated.
     */
    public static void save(T5ForConditionalGeneration model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = new LinkedHashMap<>();
        int inner = model.config().innerDim();
        model.namedParameters().forEach((name, p) -> {
            if (name.endsWith(KEY_VALUE)) {
                String prefix = name.substring(0, name.length() - KEY_VALUE.length());
                Tensor whole = p.detach();
                state.put(prefix + ".k.weight", whole.narrow(0, 0, inner).copy());
                state.put(prefix + ".v.weight", whole.narrow(0, inner, inner).copy());
            } else {
                state.put(name, p);
            }
        });
        SafeTensorsWriter.write(dir.resolve(WEIGHTS), state, Map.of("format", "pt"));
        model.config().write(dir.resolve(CONFIG));
    }
}

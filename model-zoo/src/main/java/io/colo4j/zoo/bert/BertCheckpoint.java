package io.colo4j.zoo.bert;

import io.colo4j.tensor.Tensor;
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

/**
 * HF model folders for BERT: {@code config.json} + {@code model.safetensors}.
 *
 * <p>Loading accepts the key styles HF does: {@code bert.}-prefixed (BertForMaskedLM /
 * BertForPreTraining) or bare (a BertModel export: {@code embeddings.word_embeddings.weight}), and the
 * old TF names {@code LayerNorm.gamma} / {@code LayerNorm.beta}. It ignores the
 * {@code embeddings.position_ids} buffer, the tied decoder {@code cls.predictions.decoder.weight}
 * (which must be word-table shaped), {@code cls.predictions.decoder.bias} (HF's alias of
 * {@code cls.predictions.bias}, used when that is absent) and the next-sentence head
 * {@code cls.seq_relationship.*}. A checkpoint without pooler weights (HF's BertForMaskedLM has no
 * pooler) leaves the pooler at its initial values; pooler weights are ignored by a model without one.
 * Missing, unexpected, duplicate, mis-shaped or unreadable tensors are reported, all at once, before
 * any parameter is written. Loading into a sharded model reads each rank's shard only.
 */
public final class BertCheckpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    private static final String DECODER_WEIGHT = "cls.predictions.decoder.weight";
    private static final String DECODER_BIAS = "cls.predictions.decoder.bias";
    private static final String BIAS = "cls.predictions.bias";
    private static final String WORD = "bert.embeddings.word_embeddings.weight";

    private BertCheckpoint() {}

    /** Reads {@code dir/config.json}. */
    public static BertConfig readConfig(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new IOException(dir + ": not a BERT model folder (no " + CONFIG + ")");
        }
        return BertConfig.read(config);
    }

    /** A model built from {@code dir/config.json} with the weights of {@code dir/model.safetensors}. */
    public static BertForMaskedLM load(Path dir) throws IOException {
        BertConfig config = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + WEIGHTS);
        }
        BertForMaskedLM model = new BertForMaskedLM(config, 0L);
        loadWeights(model, weights);
        return model;
    }

    /** Overwrites {@code model}'s parameters with {@code weights} (a model.safetensors); nothing is written unless all fit. */
    public static void loadWeights(BertForMaskedLM model, Path weights) throws IOException {
        try (SafeTensorsReader reader = SafeTensorsReader.open(weights)) {
            Map<String, String> plan = plan(reader, ShardReads.fullShapes(model), model.config().addPoolingLayer());
            ShardReads.readPlanned(reader, plan, model);
        }
    }

    /** The model name a file name stands for (prefix and TF LayerNorm names normalised). */
    static String canonical(String name) {
        String n = name;
        if (n.contains("LayerNorm.")) {
            if (n.endsWith(".gamma")) {
                n = n.substring(0, n.length() - "gamma".length()) + "weight";
            } else if (n.endsWith(".beta")) {
                n = n.substring(0, n.length() - "beta".length()) + "bias";
            }
        }
        if (!n.startsWith("bert.") && !n.startsWith("cls.")) {
            n = "bert." + n;
        }
        return n;
    }

    /** The parameter each file tensor goes to, after every check has passed: model name -> file name. */
    static Map<String, String> plan(SafeTensorsReader reader, Map<String, int[]> expected, boolean pooler) throws SafeTensorsException {
        Map<String, String> plan = new LinkedHashMap<>();
        TreeSet<String> unexpected = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        int[] wordShape = expected.get(WORD);
        String decoderBias = null;
        for (TensorInfo info : reader.tensors().values()) {
            String name = info.name();
            String key = canonical(name);
            if (key.equals("bert.embeddings.position_ids") || key.startsWith("cls.seq_relationship.")
                    || (!pooler && key.startsWith("bert.pooler."))) {
                continue;
            }
            if (key.equals(DECODER_WEIGHT)) {
                if (!Arrays.equals(info.shape(), wordShape)) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but a tied decoder must match"
                            + " word_embeddings " + Arrays.toString(wordShape) + " (untied MLM decoders are not supported)");
                }
                continue;
            }
            if (key.equals(DECODER_BIAS)) {
                decoderBias = name;
                if (!Arrays.equals(info.shape(), expected.get(BIAS))) {
                    problems.add("'" + name + "' has shape " + Arrays.toString(info.shape()) + " but the MLM bias is "
                            + Arrays.toString(expected.get(BIAS)));
                }
                continue;
            }
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
        if (!plan.containsKey(BIAS) && decoderBias != null) {
            plan.put(BIAS, decoderBias);
        }
        TreeSet<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(plan.keySet());
        missing.removeIf(n -> n.startsWith("bert.pooler."));
        if (!missing.isEmpty()) {
            problems.add(0, "missing tensors " + missing);
        }
        if (!unexpected.isEmpty()) {
            problems.add(0, "unexpected tensors " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new SafeTensorsException(reader.file(), null, "does not fit the BERT model: " + String.join("; ", problems));
        }
        return plan;
    }

    /**
     * Writes {@code dir/config.json} and {@code dir/model.safetensors} with HF BertForMaskedLM names
     * ({@code bert.}-prefixed; the tied decoder is not written, as HF's own safetensors exports omit it).
     */
    public static void save(BertForMaskedLM model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> state = new LinkedHashMap<>(model.namedParameters());
        SafeTensorsWriter.write(dir.resolve(WEIGHTS), state, Map.of("format", "pt"));
        model.config().write(dir.resolve(CONFIG));
    }
}

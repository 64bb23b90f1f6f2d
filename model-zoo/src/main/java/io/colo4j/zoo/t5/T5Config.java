package io.colo4j.zoo.t5;

import static io.colo4j.zoo.io.HfConfigFields.decimal;
import static io.colo4j.zoo.io.HfConfigFields.floatField;
import static io.colo4j.zoo.io.HfConfigFields.intField;

import com.fasterxml.jackson.core.JacksonException;
import io.colo4j.zoo.io.HfConfigFields;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The T5 encoder-decoder's hyper-parameters, named as in HF's T5Config ({@code config.json}): the
 * original T5 (v1.0) shape: ReLU feed-forward, LM head tied to {@code shared} (the decoder output
 * scaled by d_model^-0.5). {@code n_positions} only bounds the sequences the trainer feeds (T5's
 * positions are relative).
 */
public record T5Config(int vocabSize, int dModel, int dKv, int dFf, int numLayers, int numDecoderLayers, int numHeads,
                       int relativeAttentionNumBuckets, int relativeAttentionMaxDistance, float dropoutRate,
                       float layerNormEpsilon, float initializerFactor, int nPositions, int padTokenId,
                       int decoderStartTokenId) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The named configurations {@link #named} knows, smallest first. */
    public static final List<String> NAMES = List.of("tiny", "small", "base");

    public T5Config {
        if (vocabSize < 1 || dModel < 1 || dKv < 1 || dFf < 1 || numLayers < 0 || numDecoderLayers < 0 || numHeads < 1
                || relativeAttentionNumBuckets < 2 || relativeAttentionMaxDistance < 1 || nPositions < 1) {
            throw new IllegalArgumentException("t5 config: sizes must be positive (vocab " + vocabSize + ", d_model " + dModel
                    + ", d_kv " + dKv + ", d_ff " + dFf + ", layers " + numLayers + "/" + numDecoderLayers + ", heads " + numHeads
                    + ", buckets " + relativeAttentionNumBuckets + ", max distance " + relativeAttentionMaxDistance
                    + ", positions " + nPositions + ")");
        }
        if (!(dropoutRate >= 0f && dropoutRate < 1f)) {
            throw new IllegalArgumentException("t5 config: dropout_rate must lie in [0, 1), got " + dropoutRate);
        }
        if (!(layerNormEpsilon > 0) || !(initializerFactor >= 0)) {
            throw new IllegalArgumentException("t5 config: layer_norm_epsilon must be > 0 and initializer_factor >= 0");
        }
        for (int id : new int[] {padTokenId, decoderStartTokenId}) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("t5 config: token id " + id + " is outside the vocabulary of " + vocabSize);
            }
        }
    }

    /** HF's defaults (32 buckets, max distance 128, dropout 0.1, eps 1e-6, factor 1, 512 positions, pad = start = 0). */
    public static T5Config of(int vocabSize, int dModel, int dKv, int dFf, int layers, int heads) {
        return new T5Config(vocabSize, dModel, dKv, dFf, layers, layers, heads, 32, 128, 0.1f, 1e-6f, 1f, 512, 0, 0);
    }

    /** For tests and smoke runs: byte vocabulary, 2 + 2 layers, 64 wide, 4 heads of 16, 64 positions, no dropout. */
    public static T5Config tiny() {
        return new T5Config(256, 64, 16, 256, 2, 2, 4, 32, 128, 0f, 1e-6f, 1f, 64, 0, 0);
    }

    /** HF {@code t5-small} (60M). */
    public static T5Config small() {
        return of(32128, 512, 64, 2048, 6, 8);
    }

    /** HF {@code t5-base} (220M). */
    public static T5Config base() {
        return of(32128, 768, 64, 3072, 12, 12);
    }

    /** tiny, small or base (also t5-small, t5-base). */
    public static T5Config named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> tiny();
            case "small", "t5-small" -> small();
            case "base", "t5-base" -> base();
            default -> throw new IllegalArgumentException("unknown t5 config '" + name + "'; known: " + NAMES);
        };
    }

    /** num_heads * d_kv: the width of the attention projections. */
    public int innerDim() {
        return numHeads * dKv;
    }

    public T5Config withDropout(float p) {
        return new T5Config(vocabSize, dModel, dKv, dFf, numLayers, numDecoderLayers, numHeads, relativeAttentionNumBuckets,
                relativeAttentionMaxDistance, p, layerNormEpsilon, initializerFactor, nPositions, padTokenId, decoderStartTokenId);
    }

    public T5Config withBuckets(int buckets, int maxDistance) {
        return new T5Config(vocabSize, dModel, dKv, dFf, numLayers, numDecoderLayers, numHeads, buckets, maxDistance, dropoutRate,
                layerNormEpsilon, initializerFactor, nPositions, padTokenId, decoderStartTokenId);
    }

    public T5Config withInitializerFactor(float factor) {
        return new T5Config(vocabSize, dModel, dKv, dFf, numLayers, numDecoderLayers, numHeads, relativeAttentionNumBuckets,
                relativeAttentionMaxDistance, dropoutRate, layerNormEpsilon, factor, nPositions, padTokenId, decoderStartTokenId);
    }

    public T5Config withLayers(int encoder, int decoder) {
        return new T5Config(vocabSize, dModel, dKv, dFf, encoder, decoder, numHeads, relativeAttentionNumBuckets,
                relativeAttentionMaxDistance, dropoutRate, layerNormEpsilon, initializerFactor, nPositions, padTokenId, decoderStartTokenId);
    }

    public T5Config withPositions(int n) {
        return new T5Config(vocabSize, dModel, dKv, dFf, numLayers, numDecoderLayers, numHeads, relativeAttentionNumBuckets,
                relativeAttentionMaxDistance, dropoutRate, layerNormEpsilon, initializerFactor, n, padTokenId, decoderStartTokenId);
    }

    /** Another vocabulary size; the pad and decoder-start ids must lie inside it. */
    public T5Config withVocabSize(int v) {
        return new T5Config(v, dModel, dKv, dFf, numLayers, numDecoderLayers, numHeads, relativeAttentionNumBuckets,
                relativeAttentionMaxDistance, dropoutRate, layerNormEpsilon, initializerFactor, nPositions, padTokenId, decoderStartTokenId);
    }

    /** Parameters of the model (the tied LM head counted once). */
    public long parameterCount() {
        long d = dModel;
        long inner = innerDim();
        long attention = 4 * d * inner;
        long ffn = 2 * d * dFf;
        long bias = (long) relativeAttentionNumBuckets * numHeads;
        long encoder = numLayers * (attention + ffn + 2 * d) + (numLayers > 0 ? bias : 0) + d;
        long decoder = numDecoderLayers * (2 * attention + ffn + 3 * d) + (numDecoderLayers > 0 ? bias : 0) + d;
        return (long) vocabSize * d + encoder + decoder;
    }

    // ---- HF config.json ----------------------------------------------------------------------

    public static T5Config read(Path configJson) throws IOException {
        return HfConfigFields.read(configJson, T5Config::fromJson);
    }

    public static T5Config parse(String json) throws IOException {
        return HfConfigFields.parse(json, "t5", T5Config::fromJson);
    }

    static T5Config fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        String type = root.path("model_type").asText("t5");
        if (!type.equals("t5")) {
            throw new IllegalArgumentException("model_type is '" + type + "', not t5");
        }
        String ff = root.path("feed_forward_proj").asText("relu");
        if (!ff.equals("relu")) {
            throw new IllegalArgumentException("feed_forward_proj '" + ff + "' is not supported (only relu, the original T5)");
        }
        if (!root.path("tie_word_embeddings").asBoolean(true)) {
            throw new IllegalArgumentException("tie_word_embeddings false is not supported: the LM head is tied to shared");
        }
        int layers = intField(root, "num_layers", 6);
        return new T5Config(intField(root, "vocab_size", 32128), intField(root, "d_model", 512), intField(root, "d_kv", 64),
                intField(root, "d_ff", 2048), layers, intField(root, "num_decoder_layers", layers), intField(root, "num_heads", 8),
                intField(root, "relative_attention_num_buckets", 32), intField(root, "relative_attention_max_distance", 128),
                floatField(root, "dropout_rate", 0.1f), floatField(root, "layer_norm_epsilon", 1e-6f),
                floatField(root, "initializer_factor", 1f), intField(root, "n_positions", 512), intField(root, "pad_token_id", 0),
                intField(root, "decoder_start_token_id", 0));
    }

    /** HF-style config.json content. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model_type", "t5");
        o.putArray("architectures").add("T5ForConditionalGeneration");
        o.put("vocab_size", vocabSize);
        o.put("d_model", dModel);
        o.put("d_kv", dKv);
        o.put("d_ff", dFf);
        o.put("num_layers", numLayers);
        o.put("num_decoder_layers", numDecoderLayers);
        o.put("num_heads", numHeads);
        o.put("relative_attention_num_buckets", relativeAttentionNumBuckets);
        o.put("relative_attention_max_distance", relativeAttentionMaxDistance);
        o.put("dropout_rate", decimal(dropoutRate));
        o.put("layer_norm_epsilon", decimal(layerNormEpsilon));
        o.put("initializer_factor", decimal(initializerFactor));
        o.put("feed_forward_proj", "relu");
        o.put("n_positions", nPositions);
        o.put("pad_token_id", padTokenId);
        o.put("decoder_start_token_id", decoderStartTokenId);
        o.put("is_encoder_decoder", true);
        o.put("tie_word_embeddings", true);
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes config.json atomically. */
    public void write(Path configJson) throws IOException {
        AtomicFiles.writeString(configJson, toJson());
    }
}

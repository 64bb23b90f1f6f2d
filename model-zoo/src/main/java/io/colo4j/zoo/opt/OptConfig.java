package io.colo4j.zoo.opt;

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
 * OPT's hyper-parameters, named as in HF's OPTConfig ({@code config.json}): vocab_size,
 * max_position_embeddings, hidden_size, num_hidden_layers, num_attention_heads, ffn_dim,
 * word_embed_proj_dim (project_in / project_out when it differs from hidden_size, as in opt-350m),
 * do_layer_norm_before (pre-LN; false = post-LN, as in opt-350m), _remove_final_layer_norm,
 * enable_bias, dropout, attention_dropout, activation_dropout, init_std, pad_token_id. The activation
 * is ReLU and LayerNorms are affine with eps 1e-5, as in every published OPT. activation_dropout is kept
 * for the round trip but, as in HF's OPTDecoderLayer, never applied (it is 0 in every published OPT).
 */
public record OptConfig(int vocabSize, int maxPositionEmbeddings, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
                        int ffnDim, int wordEmbedProjDim, boolean doLayerNormBefore, boolean removeFinalLayerNorm,
                        boolean enableBias, float dropout, float attentionDropout, float activationDropout, float initStd,
                        int padTokenId) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** OPT's learned positions start at this row: position p reads row p + 2 (fairseq's padding offset). */
    public static final int POSITION_OFFSET = 2;

    /** torch.nn.LayerNorm's default, which OPT uses everywhere. */
    public static final float LAYER_NORM_EPS = 1e-5f;

    /** The named configurations {@link #named} knows, smallest first. */
    public static final List<String> NAMES = List.of("tiny", "opt-125m", "opt-350m", "opt-1.3b", "opt-2.7b", "opt-6.7b",
            "opt-13b", "opt-30b", "opt-66b");

    public OptConfig {
        if (vocabSize < 1 || maxPositionEmbeddings < 1 || hiddenSize < 1 || numHiddenLayers < 0 || numAttentionHeads < 1
                || ffnDim < 1 || wordEmbedProjDim < 1) {
            throw new IllegalArgumentException("opt config: sizes must be positive (vocab " + vocabSize + ", positions "
                    + maxPositionEmbeddings + ", hidden " + hiddenSize + ", layers " + numHiddenLayers + ", heads "
                    + numAttentionHeads + ", ffn " + ffnDim + ", word_embed_proj_dim " + wordEmbedProjDim + ")");
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("opt config: hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        if (!(initStd >= 0)) {
            throw new IllegalArgumentException("opt config: init_std must be >= 0, got " + initStd);
        }
        for (float p : new float[] {dropout, attentionDropout, activationDropout}) {
            if (!(p >= 0f && p < 1f)) {
                throw new IllegalArgumentException("opt config: dropout probabilities must lie in [0, 1), got " + p);
            }
        }
    }

    /** A pre-LN OPT with HF's defaults (dropout 0.1, attention/activation dropout 0, init 0.02, pad 1) and these sizes. */
    public static OptConfig of(int vocabSize, int maxPositions, int hidden, int layers, int heads, int ffn) {
        return new OptConfig(vocabSize, maxPositions, hidden, layers, heads, ffn, hidden, true, false, true, 0.1f, 0f, 0f,
                0.02f, 1);
    }

    /** For tests and smoke runs: byte vocabulary, 2 layers, 64 wide, 4 heads, ffn 256, 64 positions, no dropout. */
    public static OptConfig tiny() {
        return of(256, 64, 64, 2, 4, 256).withDropout(0f);
    }

    /** tiny, opt-125m ... opt-66b (HF's facebook/opt-* sizes; also without the "opt-" prefix, or with "facebook/"). */
    public static OptConfig named(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith("facebook/")) {
            n = n.substring("facebook/".length());
        }
        if (!n.equals("tiny") && !n.startsWith("opt-")) {
            n = "opt-" + n;
        }
        return switch (n) {
            case "tiny" -> tiny();
            case "opt-125m" -> of(50272, 2048, 768, 12, 12, 3072);
            case "opt-350m" -> new OptConfig(50272, 2048, 1024, 24, 16, 4096, 512, false, false, true, 0.1f, 0f, 0f, 0.02f, 1);
            case "opt-1.3b" -> of(50272, 2048, 2048, 24, 32, 8192);
            case "opt-2.7b" -> of(50272, 2048, 2560, 32, 32, 10240);
            case "opt-6.7b" -> of(50272, 2048, 4096, 32, 32, 16384);
            case "opt-13b" -> of(50272, 2048, 5120, 40, 40, 20480);
            case "opt-30b" -> of(50272, 2048, 7168, 48, 56, 28672);
            case "opt-66b" -> of(50272, 2048, 9216, 64, 72, 36864);
            default -> throw new IllegalArgumentException("unknown opt config '" + name + "'; known: " + NAMES);
        };
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Whether the embeddings are narrower than the decoder (project_in / project_out exist). */
    public boolean projects() {
        return wordEmbedProjDim != hiddenSize;
    }

    /** Whether the decoder ends with final_layer_norm (HF: only pre-LN models without _remove_final_layer_norm). */
    public boolean hasFinalLayerNorm() {
        return doLayerNormBefore && !removeFinalLayerNorm;
    }

    /** Rows of the position table: max_position_embeddings + the offset of 2. */
    public int positionRows() {
        return maxPositionEmbeddings + POSITION_OFFSET;
    }

    public OptConfig withDropout(float p) {
        return new OptConfig(vocabSize, maxPositionEmbeddings, hiddenSize, numHiddenLayers, numAttentionHeads, ffnDim,
                wordEmbedProjDim, doLayerNormBefore, removeFinalLayerNorm, enableBias, p, p, p, initStd, padTokenId);
    }

    public OptConfig withVocabSize(int v) {
        return new OptConfig(v, maxPositionEmbeddings, hiddenSize, numHiddenLayers, numAttentionHeads, ffnDim,
                wordEmbedProjDim, doLayerNormBefore, removeFinalLayerNorm, enableBias, dropout, attentionDropout,
                activationDropout, initStd, padTokenId);
    }

    public OptConfig withLayers(int n) {
        return new OptConfig(vocabSize, maxPositionEmbeddings, hiddenSize, n, numAttentionHeads, ffnDim,
                wordEmbedProjDim, doLayerNormBefore, removeFinalLayerNorm, enableBias, dropout, attentionDropout,
                activationDropout, initStd, padTokenId);
    }

    public OptConfig withMaxPositions(int n) {
        return new OptConfig(vocabSize, n, hiddenSize, numHiddenLayers, numAttentionHeads, ffnDim,
                wordEmbedProjDim, doLayerNormBefore, removeFinalLayerNorm, enableBias, dropout, attentionDropout,
                activationDropout, initStd, padTokenId);
    }

    /** opt-350m's layout: post-LN (no final LayerNorm) and embeddings of {@code projDim} projected in and out. */
    public OptConfig withPostLayerNorm(int projDim) {
        return new OptConfig(vocabSize, maxPositionEmbeddings, hiddenSize, numHiddenLayers, numAttentionHeads, ffnDim,
                projDim, false, removeFinalLayerNorm, enableBias, dropout, attentionDropout, activationDropout, initStd,
                padTokenId);
    }

    // ---- HF config.json ----------------------------------------------------------------------

    public static OptConfig read(Path configJson) throws IOException {
        return HfConfigFields.read(configJson, OptConfig::fromJson);
    }

    public static OptConfig parse(String json) throws IOException {
        return HfConfigFields.parse(json, "opt", OptConfig::fromJson);
    }

    static OptConfig fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        String type = root.path("model_type").asText("opt");
        if (!type.equals("opt")) {
            throw new IllegalArgumentException("model_type is '" + type + "', not opt");
        }
        String act = root.path("activation_function").asText("relu");
        if (!act.equals("relu")) {
            throw new IllegalArgumentException("activation_function '" + act + "' is not supported (only relu)");
        }
        if (!root.path("layer_norm_elementwise_affine").asBoolean(true)) {
            throw new IllegalArgumentException("layer_norm_elementwise_affine false is not supported");
        }
        if (!root.path("tie_word_embeddings").asBoolean(true)) {
            throw new IllegalArgumentException("tie_word_embeddings false is not supported: the LM head is tied to embed_tokens");
        }
        int hidden = intField(root, "hidden_size", 768);
        return new OptConfig(intField(root, "vocab_size", 50272), intField(root, "max_position_embeddings", 2048), hidden,
                intField(root, "num_hidden_layers", 12), intField(root, "num_attention_heads", 12),
                intField(root, "ffn_dim", 3072), intField(root, "word_embed_proj_dim", hidden),
                root.path("do_layer_norm_before").asBoolean(true), root.path("_remove_final_layer_norm").asBoolean(false),
                root.path("enable_bias").asBoolean(true), floatField(root, "dropout", 0.1f),
                floatField(root, "attention_dropout", 0f), floatField(root, "activation_dropout", 0f),
                floatField(root, "init_std", 0.02f), intField(root, "pad_token_id", 1));
    }

    /** HF-style config.json content. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model_type", "opt");
        o.putArray("architectures").add("OPTForCausalLM");
        o.put("vocab_size", vocabSize);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("hidden_size", hiddenSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("ffn_dim", ffnDim);
        o.put("word_embed_proj_dim", wordEmbedProjDim);
        o.put("do_layer_norm_before", doLayerNormBefore);
        o.put("_remove_final_layer_norm", removeFinalLayerNorm);
        o.put("enable_bias", enableBias);
        o.put("layer_norm_elementwise_affine", true);
        o.put("activation_function", "relu");
        o.put("dropout", decimal(dropout));
        o.put("attention_dropout", decimal(attentionDropout));
        o.put("activation_dropout", decimal(activationDropout));
        o.put("init_std", decimal(initStd));
        o.put("pad_token_id", padTokenId);
        o.put("bos_token_id", 2);
        o.put("eos_token_id", 2);
        o.put("tie_word_embeddings", true);
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The float's shortest decimal form as a double (0.1f is written 0.1, not 0.10000000149011612). */

    /** Writes config.json atomically. */
    public void write(Path configJson) throws IOException {
        AtomicFiles.writeString(configJson, toJson());
    }
}

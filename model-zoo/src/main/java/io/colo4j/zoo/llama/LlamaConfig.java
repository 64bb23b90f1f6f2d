package io.colo4j.zoo.llama;

import static io.colo4j.zoo.io.HfConfigFields.decimal;
import static io.colo4j.zoo.io.HfConfigFields.doubleField;
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
 * Llama's hyper-parameters, named as in HF's LlamaConfig ({@code config.json}): vocab_size,
 * max_position_embeddings, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
 * num_key_value_heads (grouped-query attention when fewer than the attention heads), head_dim,
 * rms_norm_eps, rope_theta, attention_dropout, initializer_range. The MLP is SwiGLU (hidden_act silu),
 * no projection has a bias, rotary embeddings are unscaled (rope_scaling null) and the LM head is not
 * tied, as in Llama 1, 2 and 3.
 */
public record LlamaConfig(int vocabSize, int maxPositionEmbeddings, int hiddenSize, int intermediateSize, int numHiddenLayers,
                          int numAttentionHeads, int numKeyValueHeads, int headDim, float rmsNormEps, double ropeTheta,
                          float attentionDropout, float initializerRange) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The named configurations {@link #named} knows, smallest first. */
    public static final List<String> NAMES = List.of("tiny", "llama-7b", "llama-2-7b", "llama-3-8b", "llama-2-13b", "llama-2-70b");

    public LlamaConfig {
        if (vocabSize < 1 || maxPositionEmbeddings < 1 || hiddenSize < 1 || intermediateSize < 1 || numHiddenLayers < 0
                || numAttentionHeads < 1 || numKeyValueHeads < 1 || headDim < 1) {
            throw new IllegalArgumentException("llama config: sizes must be positive (vocab " + vocabSize + ", positions "
                    + maxPositionEmbeddings + ", hidden " + hiddenSize + ", intermediate " + intermediateSize + ", layers "
                    + numHiddenLayers + ", heads " + numAttentionHeads + ", kv heads " + numKeyValueHeads + ", head_dim " + headDim + ")");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("llama config: num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("llama config: head_dim " + headDim + " must be even (rotary embeddings rotate pairs)");
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0) || !(initializerRange >= 0)) {
            throw new IllegalArgumentException("llama config: rms_norm_eps and rope_theta must be > 0 and initializer_range >= 0");
        }
        if (!(attentionDropout >= 0f && attentionDropout < 1f)) {
            throw new IllegalArgumentException("llama config: attention_dropout must lie in [0, 1), got " + attentionDropout);
        }
    }

    /** A Llama with HF's defaults (head_dim = hidden / heads, rope_theta 10000, eps 1e-6, no dropout, init 0.02). */
    public static LlamaConfig of(int vocabSize, int maxPositions, int hidden, int intermediate, int layers, int heads, int kvHeads) {
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("llama config: hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        }
        return new LlamaConfig(vocabSize, maxPositions, hidden, intermediate, layers, heads, kvHeads, hidden / heads, 1e-6f,
                10000.0, 0f, 0.02f);
    }

    /** For tests and smoke runs: byte vocabulary, 2 layers, 64 wide, 8 heads sharing 4 key/value heads (GQA), 128 positions. */
    public static LlamaConfig tiny() {
        return of(256, 128, 64, 160, 2, 8, 4);
    }

    /** tiny, llama-7b, llama-2-7b, llama-3-8b, llama-2-13b, llama-2-70b (the published shapes; for coverage and planning). */
    public static LlamaConfig named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> tiny();
            case "llama-7b" -> of(32000, 2048, 4096, 11008, 32, 32, 32);
            case "llama-2-7b" -> of(32000, 4096, 4096, 11008, 32, 32, 32).withRmsNormEps(1e-5f);
            case "llama-2-13b" -> of(32000, 4096, 5120, 13824, 40, 40, 40).withRmsNormEps(1e-5f);
            case "llama-2-70b" -> of(32000, 4096, 8192, 28672, 80, 64, 8).withRmsNormEps(1e-5f);
            case "llama-3-8b" -> of(128256, 8192, 4096, 14336, 32, 32, 8).withRmsNormEps(1e-5f).withRopeTheta(500000.0);
            default -> throw new IllegalArgumentException("unknown llama config '" + name + "'; known: " + NAMES);
        };
    }

    /** Query heads per key/value head. */
    public int groups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    public LlamaConfig withRmsNormEps(float eps) {
        return new LlamaConfig(vocabSize, maxPositionEmbeddings, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, eps, ropeTheta, attentionDropout, initializerRange);
    }

    public LlamaConfig withRopeTheta(double theta) {
        return new LlamaConfig(vocabSize, maxPositionEmbeddings, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, theta, attentionDropout, initializerRange);
    }

    public LlamaConfig withVocabSize(int v) {
        return new LlamaConfig(v, maxPositionEmbeddings, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, ropeTheta, attentionDropout, initializerRange);
    }

    public LlamaConfig withLayers(int n) {
        return new LlamaConfig(vocabSize, maxPositionEmbeddings, hiddenSize, intermediateSize, n, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, ropeTheta, attentionDropout, initializerRange);
    }

    public LlamaConfig withMaxPositions(int n) {
        return new LlamaConfig(vocabSize, n, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, ropeTheta, attentionDropout, initializerRange);
    }

    public LlamaConfig withAttentionDropout(float p) {
        return new LlamaConfig(vocabSize, maxPositionEmbeddings, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, ropeTheta, p, initializerRange);
    }

    // ---- HF config.json ----------------------------------------------------------------------

    public static LlamaConfig read(Path configJson) throws IOException {
        return HfConfigFields.read(configJson, LlamaConfig::fromJson);
    }

    public static LlamaConfig parse(String json) throws IOException {
        return HfConfigFields.parse(json, "llama", LlamaConfig::fromJson);
    }

    static LlamaConfig fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config is not a JSON object");
        }
        String type = root.path("model_type").asText("llama");
        if (!type.equals("llama")) {
            throw new IllegalArgumentException("model_type is '" + type + "', not llama");
        }
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (only silu)");
        }
        JsonNode scaling = root.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw new IllegalArgumentException("rope_scaling " + scaling + " is not supported (only unscaled rotary embeddings)");
        }
        if (root.path("attention_bias").asBoolean(false) || root.path("mlp_bias").asBoolean(false)) {
            throw new IllegalArgumentException("attention_bias / mlp_bias true is not supported (Llama's projections have no bias)");
        }
        if (root.path("tie_word_embeddings").asBoolean(false)) {
            throw new IllegalArgumentException("tie_word_embeddings true is not supported: the LM head is a separate lm_head");
        }
        int hidden = intField(root, "hidden_size", 4096);
        int heads = intField(root, "num_attention_heads", 32);
        int kvHeads = intField(root, "num_key_value_heads", heads);
        int headDim;
        JsonNode hd = root.get("head_dim");
        if (hd != null && !hd.isNull()) {
            headDim = intField(root, "head_dim", 0);
        } else {
            if (hidden % heads != 0) {
                throw new IllegalArgumentException("hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
            }
            headDim = hidden / heads;
        }
        return new LlamaConfig(intField(root, "vocab_size", 32000), intField(root, "max_position_embeddings", 2048), hidden,
                intField(root, "intermediate_size", 11008), intField(root, "num_hidden_layers", 32), heads, kvHeads, headDim,
                floatField(root, "rms_norm_eps", 1e-6f), doubleField(root, "rope_theta", 10000.0),
                floatField(root, "attention_dropout", 0f), floatField(root, "initializer_range", 0.02f));
    }

    /** HF-style config.json content. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("model_type", "llama");
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("vocab_size", vocabSize);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", decimal(rmsNormEps));
        o.put("rope_theta", ropeTheta);
        o.putNull("rope_scaling");
        o.put("attention_bias", false);
        o.put("mlp_bias", false);
        o.put("attention_dropout", decimal(attentionDropout));
        o.put("initializer_range", decimal(initializerRange));
        o.put("tie_word_embeddings", false);
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The float's shortest decimal form as a double (1e-6f is written 1.0E-6, not 9.999999974752427E-7). */

    /** Writes config.json atomically. */
    public void write(Path configJson) throws IOException {
        AtomicFiles.writeString(configJson, toJson());
    }
}

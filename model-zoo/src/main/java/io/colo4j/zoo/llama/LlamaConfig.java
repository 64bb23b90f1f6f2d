package io.colo4j.zoo.llama;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfConfigFormat.Derived;
import io.colo4j.zoo.hf.HfConfigFormat.Fixed;
import io.colo4j.zoo.hf.HfConfigFormat;
import io.colo4j.zoo.hf.NamedConfigs;
import java.util.List;

/**
 * Llama's hyper-parameters, named as in HF's LlamaConfig ({@code config.json}): vocab_size,
 * max_position_embeddings, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
 * num_key_value_heads (grouped-query attention when fewer than the attention heads), head_dim,
 * rms_norm_eps, rope_theta, attention_dropout, initializer_range. The MLP is SwiGLU (hidden_act silu),
 * no projection has a bias, rotary embeddings are unscaled (rope_scaling null) and the LM head is not
 * tied, as in Llama 1, 2 and 3.
 */
public record LlamaConfig(int vocabSize, int maxPositionEmbeddings, int hiddenSize, int intermediateSize,
                          int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads, int headDim, float rmsNormEps,
                          double ropeTheta, float attentionDropout, float initializerRange) implements HfConfig {
    public static final HfConfigFormat<LlamaConfig> FORMAT = new HfConfigFormat<>(LlamaConfig.class, "llama", "max_position_embeddings",
            of(32000, 2048, 4096, 11008, 32, 32, 32),
            List.of(new Derived("num_key_value_heads", (file, merged) -> merged.get("num_attention_heads")),
                    new Derived("head_dim", (file, merged) -> {
                        int hidden = merged.get("hidden_size").asInt();
                        int heads = merged.get("num_attention_heads").asInt();
                        if (hidden % heads != 0) {
                            throw new IllegalArgumentException("hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
                        }
                        return IntNode.valueOf(hidden / heads);
                    })),
            List.of(Fixed.informative("architectures", List.of("LlamaForCausalLM")),
                    Fixed.written("hidden_act", "silu"),
                    new Fixed("rope_scaling", NullNode.getInstance(), (v, c) -> false, "only unscaled rotary embeddings"),
                    Fixed.written("attention_bias", false),
                    Fixed.written("mlp_bias", false),
                    Fixed.written("tie_word_embeddings", false)));

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
    public static final NamedConfigs<LlamaConfig> NAMED = NamedConfigs.<LlamaConfig>of("llama")
            .add("tiny", tiny())
            .add("llama-7b", of(32000, 2048, 4096, 11008, 32, 32, 32))
            .add("llama-2-7b", of(32000, 4096, 4096, 11008, 32, 32, 32).withRmsNormEps(1e-5f))
            .add("llama-3-8b", of(128256, 8192, 4096, 14336, 32, 32, 8).withRmsNormEps(1e-5f).withRopeTheta(500000.0))
            .add("llama-2-13b", of(32000, 4096, 5120, 13824, 40, 40, 40).withRmsNormEps(1e-5f))
            .add("llama-2-70b", of(32000, 4096, 8192, 28672, 80, 64, 8).withRmsNormEps(1e-5f));

    /** Query heads per key/value head. */
    public int groups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    public LlamaConfig withRmsNormEps(float eps) {
        return FORMAT.with(this, "rms_norm_eps", eps);
    }

    public LlamaConfig withRopeTheta(double theta) {
        return FORMAT.with(this, "rope_theta", theta);
    }
}

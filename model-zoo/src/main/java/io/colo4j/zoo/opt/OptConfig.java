package io.colo4j.zoo.opt;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfConfigFormat.Derived;
import io.colo4j.zoo.hf.HfConfigFormat.Fixed;
import io.colo4j.zoo.hf.HfConfigFormat;
import io.colo4j.zoo.hf.NamedConfigs;
import java.util.List;

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
                        int ffnDim, int wordEmbedProjDim, boolean doLayerNormBefore,
                        @JsonProperty("_remove_final_layer_norm") boolean removeFinalLayerNorm, boolean enableBias,
                        float dropout, float attentionDropout, float activationDropout, float initStd,
                        int padTokenId) implements HfConfig {
    /** OPT's learned positions start at this row: position p reads row p + 2 (fairseq's padding offset). */
    public static final int POSITION_OFFSET = 2;

    /** torch.nn.LayerNorm's default, which OPT uses everywhere. */
    public static final float LAYER_NORM_EPS = 1e-5f;

    /** The dropout probabilities {@code --dropout} sets. */
    public static final List<String> DROPOUTS = List.of("dropout", "attention_dropout", "activation_dropout");

    public static final HfConfigFormat<OptConfig> FORMAT = new HfConfigFormat<>(OptConfig.class, "opt", "max_position_embeddings",
            new OptConfig(50272, 2048, 768, 12, 12, 3072, 768, true, false, true, 0.1f, 0f, 0f, 0.02f, 1),
            List.of(new Derived("word_embed_proj_dim", (file, merged) -> merged.get("hidden_size"))),
            List.of(Fixed.informative("architectures", List.of("OPTForCausalLM")),
                    Fixed.written("layer_norm_elementwise_affine", true),
                    Fixed.written("activation_function", "relu"),
                    Fixed.informative("bos_token_id", 2),
                    Fixed.informative("eos_token_id", 2),
                    Fixed.written("tie_word_embeddings", true)));

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
    /** HF's defaults (pre-LN, bias, dropout 0.1, init 0.02, pad 1) with the given sizes. */
    public static OptConfig of(int vocabSize, int maxPositions, int hidden, int layers, int heads, int ffn) {
        return new OptConfig(vocabSize, maxPositions, hidden, layers, heads, ffn, hidden, true, false, true, 0.1f, 0f, 0f,
                0.02f, 1);
    }

    /** For tests and smoke runs: byte vocabulary, 2 layers, 64 wide, 4 heads, ffn 256, 64 positions, no dropout. */
    public static OptConfig tiny() {
        return of(256, 64, 64, 2, 4, 256).withDropout(0f);
    }

    /** Each hub name (opt-125m) also as 125m and facebook/opt-125m. */
    private static NamedConfigs<OptConfig> hubNamed(NamedConfigs<OptConfig> named, Object... nameThenConfig) {
        for (int i = 0; i < nameThenConfig.length; i += 2) {
            String name = (String) nameThenConfig[i];
            named.add(name, (OptConfig) nameThenConfig[i + 1], name.substring("opt-".length()), "facebook/" + name);
        }
        return named;
    }

    /** tiny, opt-125m ... opt-66b (HF's facebook/opt-* sizes; also without the "opt-" prefix, or with "facebook/"). */
    public static final NamedConfigs<OptConfig> NAMED = hubNamed(NamedConfigs.<OptConfig>of("opt").add("tiny", tiny()),
            "opt-125m", of(50272, 2048, 768, 12, 12, 3072),
            "opt-350m", of(50272, 2048, 1024, 24, 16, 4096).withPostLayerNorm(512),
            "opt-1.3b", of(50272, 2048, 2048, 24, 32, 8192),
            "opt-2.7b", of(50272, 2048, 2560, 32, 32, 10240),
            "opt-6.7b", of(50272, 2048, 4096, 32, 32, 16384),
            "opt-13b", of(50272, 2048, 5120, 40, 40, 20480),
            "opt-30b", of(50272, 2048, 7168, 48, 56, 28672),
            "opt-66b", of(50272, 2048, 9216, 64, 72, 36864));

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
        return FORMAT.withAll(this, DROPOUTS, p);
    }

    /** opt-350m's layout: post-LN (no final LayerNorm) and embeddings of {@code projDim} projected in and out. */
    public OptConfig withPostLayerNorm(int projDim) {
        return new OptConfig(vocabSize, maxPositionEmbeddings, hiddenSize, numHiddenLayers, numAttentionHeads, ffnDim,
                projDim, false, removeFinalLayerNorm, enableBias, dropout, attentionDropout, activationDropout, initStd,
                padTokenId);
    }
}

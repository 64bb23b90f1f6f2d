package io.colo4j.zoo.t5;

import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfConfigFormat.Derived;
import io.colo4j.zoo.hf.HfConfigFormat.Fixed;
import io.colo4j.zoo.hf.HfConfigFormat;
import io.colo4j.zoo.hf.NamedConfigs;
import java.util.List;

/**
 * The T5 encoder-decoder's hyper-parameters, named as in HF's T5Config ({@code config.json}): the
 * original T5 (v1.0) shape: ReLU feed-forward, LM head tied to {@code shared} (the decoder output
 * scaled by d_model^-0.5). {@code n_positions} only bounds the sequences the trainer feeds (T5's
 * positions are relative).
 */
public record T5Config(int vocabSize, int dModel, int dKv, int dFf, int numLayers, int numDecoderLayers, int numHeads,
                       int relativeAttentionNumBuckets, int relativeAttentionMaxDistance, float dropoutRate,
                       float layerNormEpsilon, float initializerFactor, int nPositions, int padTokenId,
                       int decoderStartTokenId) implements HfConfig {
    /** The dropout probabilities {@code --dropout} sets. */
    public static final List<String> DROPOUTS = List.of("dropout_rate");

    public static final HfConfigFormat<T5Config> FORMAT = new HfConfigFormat<>(T5Config.class, "t5", "n_positions", small(),
            List.of(new Derived("num_decoder_layers", (file, merged) -> merged.get("num_layers"))),
            List.of(Fixed.informative("architectures", List.of("T5ForConditionalGeneration")),
                    Fixed.written("feed_forward_proj", "relu"),
                    Fixed.informative("is_encoder_decoder", true),
                    Fixed.written("tie_word_embeddings", true)));

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
    public static final NamedConfigs<T5Config> NAMED = NamedConfigs.<T5Config>of("t5")
            .add("tiny", tiny())
            .add("small", small(), "t5-small")
            .add("base", base(), "t5-base");

    /** num_heads * d_kv: the width of the attention projections. */
    public int innerDim() {
        return numHeads * dKv;
    }

    /** HF T5's init std of an attention's q: initializer_factor / sqrt(d_model * d_kv). */
    public float queryInitStd() {
        return (float) (initializerFactor / Math.sqrt((double) dModel * dKv));
    }

    /** HF T5's init std of an attention's k and v (and of the relative attention bias): initializer_factor / sqrt(d_model). */
    public float keyValueInitStd() {
        return (float) (initializerFactor / Math.sqrt(dModel));
    }

    /** HF T5's init std of an attention's o: initializer_factor / sqrt(num_heads * d_kv). */
    public float outputInitStd() {
        return (float) (initializerFactor / Math.sqrt(innerDim()));
    }

    public T5Config withDropout(float p) {
        return FORMAT.with(this, "dropout_rate", p);
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

}

package io.colo4j.zoo.t5;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.Linear;
import io.colo4j.ops.nn.RmsNorm;

/**
 * One pre-norm T5 block (HF T5Block): {@code layer.0} self-attention, in the decoder {@code layer.1}
 * cross-attention, then the feed-forward layer ({@code layer.1} in the encoder, {@code layer.2} in the
 * decoder). Each is x + dropout(sublayer(layer_norm(x))), with T5's RMS norm (weight only, no mean).
 */
public final class T5Block extends Module {
    private final SelfAttentionLayer selfAttention;
    private final CrossAttentionLayer crossAttention;
    private final FeedForwardLayer feedForward;

    /**
     * @param decoder                  causal self-attention and a cross-attention layer
     * @param hasRelativeAttentionBias whether this block holds the stack's relative position table (block 0)
     */
    public T5Block(T5Config config, String path, boolean decoder, boolean hasRelativeAttentionBias, long seed) {
        ModuleList<Module> layer = registerModule("layer", new ModuleList<>());
        String p = path + ".layer.";
        this.selfAttention = new SelfAttentionLayer(config, p + "0", !decoder, hasRelativeAttentionBias, seed);
        layer.add(selfAttention);
        if (decoder) {
            this.crossAttention = new CrossAttentionLayer(config, p + "1", seed);
            layer.add(crossAttention);
        } else {
            this.crossAttention = null;
        }
        this.feedForward = new FeedForwardLayer(config, p + (decoder ? "2" : "1"), seed);
        layer.add(feedForward);
    }

    /**
     * @param positionBias the stack's self-attention bias (relative positions + padding mask)
     * @param encoded      the encoder output (decoder blocks), else null
     * @param crossBias    the encoder padding mask for cross-attention, or null
     */
    public Tensor forward(Tensor x, Tensor positionBias, Tensor encoded, Tensor crossBias, long dropoutSeed) {
        x = selfAttention.forward(x, positionBias, crossAttention != null, dropoutSeed);
        if (crossAttention != null) {
            x = crossAttention.forward(x, encoded, crossBias, dropoutSeed);
        }
        return feedForward.forward(x, dropoutSeed);
    }

    public SelfAttentionLayer selfAttention() {
        return selfAttention;
    }

    /** HF T5LayerSelfAttention: x + dropout(SelfAttention(layer_norm(x))). */
    public static final class SelfAttentionLayer extends Layer<T5Config> {
        private final T5Attention attention;
        private final RmsNorm layerNorm;

        SelfAttentionLayer(T5Config config, String path, boolean bidirectional, boolean hasRelativeAttentionBias, long seed) {
            super(config, path);
            this.attention = registerModule("SelfAttention",
                    new T5Attention(config, path + ".SelfAttention", bidirectional, hasRelativeAttentionBias, seed));
            this.layerNorm = registerModule("layer_norm", new RmsNorm(config.dModel(), config.layerNormEpsilon()));
        }

        Tensor forward(Tensor x, Tensor bias, boolean causal, long dropoutSeed) {
            Tensor y = attention.forward(layerNorm.forward(x), bias, causal, dropoutSeed);
            return F.biasDropoutAddConsuming(y, null, x, config.dropoutRate(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        }

        public T5Attention attention() {
            return attention;
        }
    }

    /** HF T5LayerCrossAttention: x + dropout(EncDecAttention(layer_norm(x), encoder output)). */
    public static final class CrossAttentionLayer extends Layer<T5Config> {
        private final T5CrossAttention attention;
        private final RmsNorm layerNorm;

        CrossAttentionLayer(T5Config config, String path, long seed) {
            super(config, path);
            this.attention = registerModule("EncDecAttention", new T5CrossAttention(config, path + ".EncDecAttention", seed));
            this.layerNorm = registerModule("layer_norm", new RmsNorm(config.dModel(), config.layerNormEpsilon()));
        }

        Tensor forward(Tensor x, Tensor encoded, Tensor bias, long dropoutSeed) {
            Tensor y = attention.forward(layerNorm.forward(x), encoded, bias, dropoutSeed);
            return F.biasDropoutAddConsuming(y, null, x, config.dropoutRate(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        }

        public T5CrossAttention attention() {
            return attention;
        }
    }

    /** HF T5LayerFF: x + dropout(DenseReluDense(layer_norm(x))). */
    public static final class FeedForwardLayer extends Layer<T5Config> {
        private final DenseReluDense denseReluDense;
        private final RmsNorm layerNorm;

        FeedForwardLayer(T5Config config, String path, long seed) {
            super(config, path);
            this.denseReluDense = registerModule("DenseReluDense", new DenseReluDense(config, path + ".DenseReluDense", seed));
            this.layerNorm = registerModule("layer_norm", new RmsNorm(config.dModel(), config.layerNormEpsilon()));
        }

        Tensor forward(Tensor x, long dropoutSeed) {
            Tensor y = denseReluDense.forward(layerNorm.forward(x), dropoutSeed);
            return F.biasDropoutAddConsuming(y, null, x, config.dropoutRate(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        }
    }

    /** HF T5DenseActDense with ReLU: wo(dropout(relu(wi(x)))), no biases. */
    public static final class DenseReluDense extends Layer<T5Config> {
        private final Linear wi;
        private final Linear wo;

        DenseReluDense(T5Config config, String path, long seed) {
            super(config, path);
            float f = config.initializerFactor();
            this.wi = registerModule("wi", new Linear(path + ".wi", config.dModel(), config.dFf(), false,
                    (float) (f / Math.sqrt(config.dModel())), seed));
            this.wo = registerModule("wo", new Linear(path + ".wo", config.dFf(), config.dModel(), false,
                    (float) (f / Math.sqrt(config.dFf())), seed));
        }

        Tensor forward(Tensor x, long dropoutSeed) {
            Tensor h = F.dropout(F.relu(wi.forward(x)), config.dropoutRate(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
            return wo.forward(h);
        }
    }
}

package io.colo4j.zoo.opt;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.ops.nn.Linear;

/**
 * HF's OPTDecoderLayer: self-attention and a ReLU MLP (fc1, fc2), each with a residual; LayerNorm
 * before each sub-layer (do_layer_norm_before, opt-125m and most sizes) or after the residual (opt-350m).
 * Dropout (config.dropout) follows out_proj and fc2, attention_dropout the attention probabilities.
 */
public final class OptDecoderLayer extends Layer<OptConfig> {
    private final OptAttention selfAttn;
    private final LayerNorm selfAttnLayerNorm;
    private final Linear fc1;
    private final Linear fc2;
    private final LayerNorm finalLayerNorm;

    public OptDecoderLayer(OptConfig config, String path, long seed) {
        super(config, path);
        int d = config.hiddenSize();
        this.selfAttn = registerModule("self_attn", new OptAttention(config, path + ".self_attn", seed));
        this.selfAttnLayerNorm = registerModule("self_attn_layer_norm", new LayerNorm(d, OptConfig.LAYER_NORM_EPS));
        this.fc1 = registerLinear("fc1", d, config.ffnDim(), config.enableBias(), config.initStd(), seed);
        this.fc2 = registerLinear("fc2", config.ffnDim(), d, config.enableBias(), config.initStd(), seed);
        this.finalLayerNorm = registerModule("final_layer_norm", new LayerNorm(d, OptConfig.LAYER_NORM_EPS));
    }

    public Tensor forward(Tensor x, long dropoutSeed) {
        return forward(x, dropoutSeed, null);
    }

    /** The layer on the tokens after {@code cache}'s (null: the whole sequence). */
    public Tensor forward(Tensor x, long dropoutSeed, KvCache cache) {
        boolean pre = config.doLayerNormBefore();
        boolean training = isTraining();
        // self_attn adds its output dropout (site path + ".self_attn.dropout") and the residual x
        Tensor h = selfAttn.forward(pre ? selfAttnLayerNorm.forward(x) : x, x, dropoutSeed, cache);
        if (!pre) {
            h = selfAttnLayerNorm.forward(h);
        }
        Tensor f = fc1.forward(pre ? finalLayerNorm.forward(h) : h);
        // as in HF's OPTDecoderLayer, activation_dropout is not applied between fc1 and fc2
        h = fc2.forwardDropoutAdd(F.relu(f), h, config.dropout(), training, DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        return pre ? h : finalLayerNorm.forward(h);
    }

    public LayerNorm selfAttnLayerNorm() {
        return selfAttnLayerNorm;
    }

    public Linear fc1() {
        return fc1;
    }
}

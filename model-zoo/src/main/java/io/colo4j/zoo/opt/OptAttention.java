package io.colo4j.zoo.opt;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.nn.CausalAttention;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.zoo.nn.HeadProjections;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.Linear;

/**
 * HF's OPTAttention (decoder self-attention): separate q/k/v projections (torch Linear [out, in], with
 * biases unless enable_bias is false), q scaled by head_dim^-0.5 after its projection, causal softmax,
 * out_proj.
 */
public final class OptAttention extends Layer<OptConfig> {
    private final HeadProjections proj;

    public OptAttention(OptConfig config, String path, long seed) {
        super(config, path);
        int d = config.hiddenSize();
        float std = config.initStd();
        boolean bias = config.enableBias();
        // HF's registration order (k, v, q, out), so namedParameters() lists them as HF does
        Linear k = registerLinear("k_proj", d, d, bias, std, seed);
        Linear v = registerLinear("v_proj", d, d, bias, std, seed);
        this.proj = new HeadProjections(registerLinear("q_proj", d, d, bias, std, seed), k, v,
                registerLinear("out_proj", d, d, bias, std, seed), config.headDim());
    }

    /**
     * residual + dropout(attention(x)), x and residual [B, T, hidden] (out_proj's bias, the dropout and the residual
     * add fused); {@code dropoutSeed} makes this step's dropout masks; with a {@code cache}, of the tokens after its
     * own, extending it (null: the whole sequence).
     */
    public Tensor forward(Tensor x, Tensor residual, long dropoutSeed, KvCache cache) {
        int[] s = x.globalShape();
        int b = s[0];
        int t = s[1];
        int h = config.numAttentionHeads();
        int hd = config.headDim();
        Tensor q = F.scale(proj.q().forward(x), (float) Math.pow(hd, -0.5)).reshape(b, t, h, hd).transpose(1, 2);
        Tensor k = proj.k().forward(x).reshape(b, t, h, hd).transpose(1, 2);
        Tensor v = proj.v().forward(x).reshape(b, t, h, hd).transpose(1, 2);
        if (cache != null) {
            Tensor[] kv = cache.extend(path, k, v);
            k = kv[0];
            v = kv[1];
        }
        Tensor y = CausalAttention.apply(q, k, v, 1f, config.attentionDropout(), isTraining(),
                DropoutSeeds.site(dropoutSeed, path + ".attention_dropout"));
        y = y.transpose(1, 2).reshape(b, t, config.hiddenSize());
        return proj.o().forwardDropoutAdd(y, residual, config.dropout(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
    }
}

package io.colo4j.zoo.gpt2;

import io.colo4j.ops.F;
import io.colo4j.ops.nn.Linear;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.nn.CausalAttention;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.zoo.nn.Layer;
import java.util.List;

/** GPT-2 causal self-attention: fused qkv projection (c_attn), heads, output projection (c_proj). */
public final class Gpt2Attention extends Layer<Gpt2Config> {
    private final Linear cAttn;
    private final Linear cProj;

    public Gpt2Attention(Gpt2Config config, String path, long seed) {
        super(config, path);
        int d = config.nEmbd();
        this.cAttn = registerModule("c_attn", Linear.conv1D(path + ".c_attn", d, 3 * d, config.initializerRange(), seed));
        this.cProj = registerModule("c_proj", Linear.conv1D(path + ".c_proj", d, d, Gpt2Model.residualStd(config), seed));
        // the head structure: any split of these dims must keep whole heads
        int hd = config.headDim();
        cAttn.weight().splitUnit(1, hd);
        cAttn.bias().splitUnit(0, hd);
        cProj.weight().splitUnit(0, hd);
        // q | k | v side by side: a column split must take each rank's part of every block (stride 3)
        cAttn.weight().fusedBlocks(1, 3);
        cAttn.bias().fusedBlocks(0, 3);
    }

    /**
     * residual + resid_dropout(attention(x)), x and residual [B, T, nEmbd]; {@code dropoutSeed} makes this step's
     * dropout masks; with a {@code cache}, of the tokens after its own, extending it (null: the whole sequence).
     */
    public Tensor forward(Tensor x, Tensor residual, long dropoutSeed, KvCache cache) {
        int[] s = x.globalShape();
        int b = s[0];
        int t = s[1];
        int d = config.nEmbd();
        int h = config.nHead();
        int hd = config.headDim();
        Tensor qkv = cAttn.forward(x);
        List<Tensor> parts = qkv.split(d, -1);
        // torch: .view(B, T, H, hd); reshape is the same view where the strides allow it, a copy otherwise.
        Tensor q = parts.get(0).reshape(b, t, h, hd).transpose(1, 2);
        Tensor k = parts.get(1).reshape(b, t, h, hd).transpose(1, 2);
        Tensor v = parts.get(2).reshape(b, t, h, hd).transpose(1, 2);
        if (cache != null) {
            Tensor[] kv = cache.extend(path, k, v);
            k = kv[0];
            v = kv[1];
        }
        Tensor y = CausalAttention.apply(q, k, v, (float) (1.0 / Math.sqrt(hd)), config.attnPdrop(), isTraining(),
                DropoutSeeds.site(dropoutSeed, path + ".attn_dropout"));
        y = y.transpose(1, 2).reshape(b, t, d);
        return cProj.forwardDropoutAdd(y, residual, config.residPdrop(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".resid_dropout"));
    }

    public Linear cAttn() {
        return cAttn;
    }

    public Linear cProj() {
        return cProj;
    }
}

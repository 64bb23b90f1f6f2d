package io.colo4j.zoo.llama;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.nn.CausalAttention;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.zoo.nn.HeadProjections;
import io.colo4j.zoo.nn.Layer;

/**
 * HF's LlamaAttention: q/k/v projections without bias (torch Linear [out, in]), rotary embeddings on q
 * and k, grouped-query attention (each key/value head serves num_attention_heads / num_key_value_heads
 * consecutive query heads, HF's repeat_kv), causal softmax scaled by head_dim^-0.5, o_proj.
 */
public final class LlamaAttention extends Layer<LlamaConfig> {
    private final HeadProjections proj;

    public LlamaAttention(LlamaConfig config, String path, long seed) {
        super(config, path);
        int d = config.hiddenSize();
        int q = config.numAttentionHeads() * config.headDim();
        int kv = config.numKeyValueHeads() * config.headDim();
        float std = config.initializerRange();
        // a tp that does not divide the key/value heads is refused on k_proj / v_proj
        this.proj = new HeadProjections(registerLinear("q_proj", d, q, false, std, seed),
                registerLinear("k_proj", d, kv, false, std, seed), registerLinear("v_proj", d, kv, false, std, seed),
                registerLinear("o_proj", q, d, false, std, seed), config.headDim());
    }

    /** x [B, T, hidden] -> [B, T, hidden], with the rotary tables cos, sin [T, head_dim]. */
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, long dropoutSeed) {
        return forward(x, cos, sin, dropoutSeed, null);
    }

    /** {@link #forward(Tensor, Tensor, Tensor, long)} of the tokens after {@code cache}'s (null: the whole sequence). */
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, long dropoutSeed, KvCache cache) {
        int[] s = x.globalShape();
        int b = s[0];
        int t = s[1];
        int h = config.numAttentionHeads();
        int kvh = config.numKeyValueHeads();
        int hd = config.headDim();
        Tensor q = proj.q().forward(x).reshape(b, t, h, hd).transpose(1, 2);
        Tensor k = proj.k().forward(x).reshape(b, t, kvh, hd).transpose(1, 2);
        Tensor v = proj.v().forward(x).reshape(b, t, kvh, hd).transpose(1, 2);
        q = LlamaRotaryEmbedding.apply(q, cos, sin);
        k = LlamaRotaryEmbedding.apply(k, cos, sin);
        if (cache != null) {
            // HF caches the key/value heads before repeat_kv: 1/groups of the memory
            Tensor[] kv = cache.extend(path, k, v);
            k = kv[0];
            v = kv[1];
        }
        if (kvh != h) {
            k = F.repeatInterleave(k, h / kvh, 1);
            v = F.repeatInterleave(v, h / kvh, 1);
        }
        Tensor y = CausalAttention.apply(q, k, v, (float) (1.0 / Math.sqrt(hd)), config.attentionDropout(), isTraining(),
                DropoutSeeds.site(dropoutSeed, path + ".attention_dropout"));
        y = y.transpose(1, 2).reshape(b, t, h * hd);
        return proj.o().forward(y);
    }
}

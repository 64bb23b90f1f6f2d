package io.colo4j.zoo.gpt2;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.ops.nn.LayerNorm;

/** One pre-LayerNorm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
public final class Gpt2Block extends Module {
    private final LayerNorm ln1;
    private final Gpt2Attention attn;
    private final LayerNorm ln2;
    private final Gpt2Mlp mlp;

    public Gpt2Block(Gpt2Config config, String path, long seed) {
        this.ln1 = registerModule("ln_1", new LayerNorm(config.nEmbd(), config.layerNormEpsilon()));
        this.attn = registerModule("attn", new Gpt2Attention(config, path + ".attn", seed));
        this.ln2 = registerModule("ln_2", new LayerNorm(config.nEmbd(), config.layerNormEpsilon()));
        this.mlp = registerModule("mlp", new Gpt2Mlp(config, path + ".mlp", seed));
    }

    public Tensor forward(Tensor x, long dropoutSeed) {
        return forward(x, dropoutSeed, null);
    }

    /** The block on the tokens after {@code cache}'s (null: the whole sequence). */
    public Tensor forward(Tensor x, long dropoutSeed, KvCache cache) {
        x = attn.forward(ln1.forward(x), x, dropoutSeed, cache);
        return mlp.forward(ln2.forward(x), x, dropoutSeed);
    }

    public Gpt2Attention attn() {
        return attn;
    }

    public Gpt2Mlp mlp() {
        return mlp;
    }
}

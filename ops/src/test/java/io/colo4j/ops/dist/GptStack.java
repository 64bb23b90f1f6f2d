package io.colo4j.ops.dist;

import io.colo4j.ops.F;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.ops.nn.Linear;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.tensor.nn.WeightLayout;

/**
 * A GPT-2-shaped stack written as plain serial code with HuggingFace names (fused qkv, Conv1D layout,
 * tied head), built from the layers of {@code io.colo4j.ops.nn} as a user's model would be: the dispatcher
 * tests run exactly this code sharded. Its embeddings and Conv1D ({@link Linear} in the [in, out] layout)
 * declare their {@link WeightLayout}, so under a {@code transformer} module it also takes the shipped GPT-2
 * rules (the tests module's {@code LayoutAwareGpt2}). Initial values are spread (uniform norms, normal
 * biases) so no gradient is trivially zero.
 */
public final class GptStack extends Module {
    final int vocab;
    final int d;
    final int heads;
    public final Embedding wte;
    public final Embedding wpe;
    public final ModuleList<Block> h = new ModuleList<>();
    public final LayerNorm lnF;

    public GptStack(int vocab, int positions, int d, int layers, int heads) {
        this.vocab = vocab;
        this.d = d;
        this.heads = heads;
        wte = registerModule("wte", new Embedding(vocab, d, Init.normal(1, 0, 0.5f)));
        wpe = registerModule("wpe", new Embedding(positions, d, Init.normal(2, 0, 0.5f)));
        registerModule("h", h);
        for (int i = 0; i < layers; i++) {
            h.add(new Block(d, heads, 10 + 10L * i));
        }
        lnF = registerModule("ln_f", layerNorm(d, 3));
    }

    Tensor loss(IntTensor ids, IntTensor targets) {
        int[] s = ids.shape();
        int b = s[0];
        int t = s[1];
        int[] positions = new int[b * t];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i % t;
        }
        Tensor x = F.add(wte.forward(ids), wpe.forward(IntTensor.of(positions, b, t)));
        for (Block block : h) {
            x = block.forward(x, b, t);
        }
        Tensor logits = F.linear(lnF.forward(x), wte.weight(), null);
        return F.crossEntropy(logits.view(b * t, vocab), targets);
    }

    static LayerNorm layerNorm(int d, long seed) {
        return new LayerNorm(d, 1e-5f, Init.uniform(seed, 0.5f, 1.5f), Init.uniform(seed + 1, -0.1f, 0.1f));
    }

    /** HF's Conv1D: weight [in, out], computed as addmm. */
    static Linear conv1D(int in, int out, long seed) {
        return new Linear(WeightLayout.IN_OUT, in, out, Init.normal(seed, 0, 0.3f), Init.normal(seed + 1, 0, 0.1f));
    }

    static final class Attention extends Module {
        final Linear cAttn;
        final Linear cProj;
        final int d;
        final int heads;

        Attention(int d, int heads, long seed) {
            this.d = d;
            this.heads = heads;
            cAttn = registerModule("c_attn", conv1D(d, 3 * d, seed));
            cProj = registerModule("c_proj", conv1D(d, d, seed + 2));
        }

        Tensor forward(Tensor x, int b, int t) {
            var qkv = cAttn.forward(x).split(d, 2);
            Tensor q = qkv.get(0).view(b, t, heads, d / heads).transpose(1, 2);
            Tensor k = qkv.get(1).view(b, t, heads, d / heads).transpose(1, 2);
            Tensor v = qkv.get(2).view(b, t, heads, d / heads).transpose(1, 2);
            Tensor y = F.causalAttention(q, k, v).transpose(1, 2).reshape(b, t, d);
            return cProj.forward(y);
        }
    }

    static final class Mlp extends Module {
        final Linear cFc;
        final Linear cProj;

        Mlp(int d, long seed) {
            cFc = registerModule("c_fc", conv1D(d, 4 * d, seed));
            cProj = registerModule("c_proj", conv1D(4 * d, d, seed + 2));
        }

        Tensor forward(Tensor x) {
            return cProj.forward(F.gelu(cFc.forward(x)));
        }
    }

    public static final class Block extends Module {
        final LayerNorm ln1;
        final Attention attn;
        final LayerNorm ln2;
        final Mlp mlp;

        Block(int d, int heads, long seed) {
            ln1 = registerModule("ln_1", layerNorm(d, seed));
            attn = registerModule("attn", new Attention(d, heads, seed + 2));
            ln2 = registerModule("ln_2", layerNorm(d, seed + 6));
            mlp = registerModule("mlp", new Mlp(d, seed + 8));
        }

        public Tensor forward(Tensor x, int b, int t) {
            x = F.add(x, attn.forward(ln1.forward(x), b, t));
            return F.add(x, mlp.forward(ln2.forward(x)));
        }
    }
}

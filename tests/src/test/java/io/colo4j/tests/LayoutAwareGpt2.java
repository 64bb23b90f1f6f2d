package io.colo4j.tests;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;

/**
 * A GPT2LMHeadModel-shaped model written as plain serial code whose Conv1D and embeddings declare their
 * {@link WeightLayout}: the same parameter paths as the zoo GPT-2 ({@code transformer.wte.weight},
 * {@code transformer.h.0.attn.c_attn.weight}, ...), so the shipped gpt2.rules.json applies to it. It
 * checks the rules end to end independently of the zoo model.
 */
final class LayoutAwareGpt2 extends Module {
    final int vocab;
    final Transformer transformer;

    LayoutAwareGpt2(int vocab, int positions, int d, int layers, int heads) {
        this.vocab = vocab;
        this.transformer = registerModule("transformer", new Transformer(vocab, positions, d, layers, heads));
    }

    Tensor loss(IntTensor ids, IntTensor targets) {
        int b = ids.shape()[0];
        int t = ids.shape()[1];
        int[] positions = new int[t];
        for (int i = 0; i < t; i++) {
            positions[i] = i;
        }
        Tensor x = F.add(F.embedding(ids, transformer.wte.weight), F.embedding(IntTensor.of(positions, t), transformer.wpe.weight));
        for (Block block : transformer.h) {
            x = block.forward(x, b, t);
        }
        Tensor logits = F.linear(transformer.lnF.forward(x), transformer.wte.weight, null);
        return F.crossEntropy(logits, targets);
    }

    static final class Transformer extends Module {
        final Embedding wte;
        final Embedding wpe;
        final ModuleList<Block> h = new ModuleList<>();
        final LayerNorm lnF;

        Transformer(int vocab, int positions, int d, int layers, int heads) {
            wte = registerModule("wte", new Embedding(vocab, d, 1));
            wpe = registerModule("wpe", new Embedding(positions, d, 2));
            registerModule("h", h);
            for (int i = 0; i < layers; i++) {
                h.add(new Block(d, heads, 10 + 10L * i));
            }
            lnF = registerModule("ln_f", new LayerNorm(d, 3));
        }
    }

    static final class Embedding extends Module implements WeightLayout.Aware {
        final Parameter weight;

        Embedding(int n, int d, long seed) {
            weight = registerParameter("weight", new Parameter(Init.normal(seed, 0, 0.5f), n, d));
        }

        @Override
        public WeightLayout weightLayout() {
            return WeightLayout.IN_OUT;
        }
    }

    static final class LayerNorm extends Module {
        final Parameter weight;
        final Parameter bias;

        LayerNorm(int d, long seed) {
            weight = registerParameter("weight", new Parameter(Init.uniform(seed, 0.5f, 1.5f), d));
            bias = registerParameter("bias", new Parameter(Init.uniform(seed + 1, -0.1f, 0.1f), d));
        }

        Tensor forward(Tensor x) {
            return F.layerNorm(x, weight, bias, 1e-5f);
        }
    }

    static final class Conv1D extends Module implements WeightLayout.Aware {
        final Parameter weight;
        final Parameter bias;

        Conv1D(int in, int out, long seed) {
            weight = registerParameter("weight", new Parameter(Init.normal(seed, 0, 0.3f), in, out));
            bias = registerParameter("bias", new Parameter(Init.normal(seed + 1, 0, 0.1f), out));
        }

        Tensor forward(Tensor x) {
            return F.addmm(bias, x, weight);
        }

        @Override
        public WeightLayout weightLayout() {
            return WeightLayout.IN_OUT;
        }
    }

    static final class Attention extends Module {
        final Conv1D cAttn;
        final Conv1D cProj;
        final int d;
        final int heads;

        Attention(int d, int heads, long seed) {
            this.d = d;
            this.heads = heads;
            cAttn = registerModule("c_attn", new Conv1D(d, 3 * d, seed));
            cProj = registerModule("c_proj", new Conv1D(d, d, seed + 2));
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
        final Conv1D cFc;
        final Conv1D cProj;

        Mlp(int d, long seed) {
            cFc = registerModule("c_fc", new Conv1D(d, 4 * d, seed));
            cProj = registerModule("c_proj", new Conv1D(4 * d, d, seed + 2));
        }

        Tensor forward(Tensor x) {
            return cProj.forward(F.gelu(cFc.forward(x)));
        }
    }

    static final class Block extends Module {
        final LayerNorm ln1;
        final Attention attn;
        final LayerNorm ln2;
        final Mlp mlp;

        Block(int d, int heads, long seed) {
            ln1 = registerModule("ln_1", new LayerNorm(d, seed));
            attn = registerModule("attn", new Attention(d, heads, seed + 2));
            ln2 = registerModule("ln_2", new LayerNorm(d, seed + 6));
            mlp = registerModule("mlp", new Mlp(d, seed + 8));
        }

        Tensor forward(Tensor x, int b, int t) {
            x = F.add(x, attn.forward(ln1.forward(x), b, t));
            return F.add(x, mlp.forward(ln2.forward(x)));
        }
    }
}

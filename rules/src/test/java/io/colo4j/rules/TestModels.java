package io.colo4j.rules;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.tensor.nn.Normalization;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;

/** Small module trees with both weight layouts, for planning and applying rules without the zoo. */
final class TestModels {
    private TestModels() {}

    /** A dense layer whose weight is laid out as {@code layout} says; the bias is [out]. */
    abstract static class Dense extends Module implements WeightLayout.Aware {
        final Parameter weight;
        final Parameter bias;
        private final WeightLayout layout;

        Dense(int in, int out, long seed, WeightLayout layout) {
            this.layout = layout;
            int[] shape = layout == WeightLayout.OUT_IN ? new int[] {out, in} : new int[] {in, out};
            weight = registerParameter("weight", new Parameter(Init.normal(seed, 0, 0.3f), shape));
            bias = registerParameter("bias", new Parameter(Init.normal(seed + 1, 0, 0.1f), out));
        }

        @Override
        public WeightLayout weightLayout() {
            return layout;
        }
    }

    /** torch.nn.Linear: weight [out, in]. */
    static final class Linear extends Dense {
        Linear(int in, int out, long seed) {
            super(in, out, seed, WeightLayout.OUT_IN);
        }
    }

    /** HF Conv1D: weight [in, out]. */
    static final class Conv1D extends Dense {
        Conv1D(int in, int out, long seed) {
            super(in, out, seed, WeightLayout.IN_OUT);
        }
    }

    /** An embedding table [num, dim]. */
    static final class Embedding extends Module implements WeightLayout.Aware {
        final Parameter weight;

        Embedding(int num, int dim, long seed) {
            weight = registerParameter("weight", new Parameter(Init.normal(seed, 0, 0.5f), num, dim));
        }

        @Override
        public WeightLayout weightLayout() {
            return WeightLayout.IN_OUT;
        }
    }

    /** A linear layer that does not say its layout. */
    static final class Opaque extends Module {
        Opaque(int in, int out) {
            registerParameter("weight", new Parameter(Init.zeros(), in, out));
            registerParameter("bias", new Parameter(Init.zeros(), out));
        }
    }

    static final class Norm extends Module implements Normalization {
        Norm(int d) {
            registerParameter("weight", new Parameter(Init.ones(), d));
            registerParameter("bias", new Parameter(Init.zeros(), d));
        }
    }

    static final class Attention extends Module {
        Attention(int d, long seed) {
            Linear qkv = registerModule("qkv", new Linear(d, 3 * d, seed));
            qkv.weight.fusedBlocks(0, 3);
            qkv.bias.fusedBlocks(0, 3);
            registerModule("out", new Linear(d, d, seed + 2));
        }
    }

    static final class Mlp extends Module {
        Mlp(int d, long seed) {
            registerModule("c_fc", new Conv1D(d, 4 * d, seed));
            registerModule("c_proj", new Conv1D(4 * d, d, seed + 2));
        }
    }

    static final class Block extends Module {
        Block(int d, long seed) {
            registerModule("ln_1", new Norm(d));
            registerModule("attn", new Attention(d, seed));
            registerModule("ln_2", new Norm(d));
            registerModule("mlp", new Mlp(d, seed + 4));
        }
    }

    static final class Body extends Module {
        Body(int vocab, int d, int layers) {
            registerModule("wte", new Embedding(vocab, d, 1));
            ModuleList<Block> h = registerModule("h", new ModuleList<>());
            for (int i = 0; i < layers; i++) {
                h.add(new Block(d, 10L * (i + 1)));
            }
            registerModule("ln_f", new Norm(d));
        }
    }

    /**
     * {@code body.wte} [vocab, d]; {@code body.h.N.{ln_1,ln_2}}; {@code body.h.N.attn.{qkv,out}} (Linear,
     * [out, in]); {@code body.h.N.mlp.{c_fc,c_proj}} (Conv1D, [in, out]); {@code body.ln_f}.
     */
    static final class Tiny extends Module {
        Tiny(int vocab, int d, int layers) {
            registerModule("body", new Body(vocab, d, layers));
        }
    }

    static Tiny tiny() {
        return new Tiny(10, 8, 2);
    }

    /** Rules covering {@link Tiny} completely. */
    static final String TINY_RULES = """
            {
              "$schema": "https://colo4j.io/schemas/rules-1.schema.json",
              "model": "tiny",
              "default": "error",
              "rules": [
                {"name": "qkv", "match": "body.h.*.attn.qkv", "spec": "column", "stride": 3, "outputReplicate": false},
                {"name": "attn-out", "match": "body.h.*.attn.out", "spec": "row", "inputIsParallel": true},
                {"name": "fc", "match": "body.h.*.mlp.c_fc", "spec": "column", "outputReplicate": false},
                {"name": "proj", "match": "body.h.*.mlp.c_proj", "spec": "row"},
                {"name": "wte", "match": "body.wte", "params": {"weight": {"spec": "vocab", "outputReplicate": false}}},
                {"name": "norms", "match": "**.ln_*", "spec": "replicate"}
              ]
            }
            """;
}

package io.colo4j.zoo.bert;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Module;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.ops.nn.Linear;

/**
 * One post-LayerNorm BERT encoder layer (HF BertLayer): {@code attention} (BertAttention: {@code self}
 * with query/key/value, {@code output} with dense and LayerNorm), {@code intermediate.dense} with the
 * activation, and {@code output} (dense and LayerNorm).
 */
public final class BertLayer extends Module {
    private final Attention attention;
    private final Intermediate intermediate;
    private final Output output;

    public BertLayer(BertConfig config, String path, long seed) {
        this.attention = registerModule("attention", new Attention(config, path + ".attention", seed));
        this.intermediate = registerModule("intermediate", new Intermediate(config, path + ".intermediate", seed));
        this.output = registerModule("output", new Output(config, path + ".output", config.intermediateSize(), seed));
    }

    /** x [B, T, hidden] -> [B, T, hidden]; {@code maskBias} [B, 1, 1, T] (or null) is added to the scores. */
    public Tensor forward(Tensor x, Tensor maskBias, long dropoutSeed) {
        Tensor attended = attention.forward(x, maskBias, dropoutSeed);
        return output.forward(intermediate.forward(attended), attended, dropoutSeed);
    }

    public Attention attention() {
        return attention;
    }

    public Output output() {
        return output;
    }

    /** HF BertAttention: self-attention, then dense + dropout + LayerNorm(x + .). */
    public static final class Attention extends Module {
        private final SelfAttention self;
        private final Output output;

        Attention(BertConfig config, String path, long seed) {
            this.self = registerModule("self", new SelfAttention(config, path + ".self", seed));
            this.output = registerModule("output", new Output(config, path + ".output", config.hiddenSize(), seed));
            output.dense().weight().splitUnit(1, config.headDim());
        }

        public Tensor forward(Tensor x, Tensor maskBias, long dropoutSeed) {
            return output.forward(self.forward(x, maskBias, dropoutSeed), x, dropoutSeed);
        }

        public SelfAttention self() {
            return self;
        }

        public Output output() {
            return output;
        }
    }

    /** HF BertSelfAttention: separate query, key, value projections, softmax(q k^T / sqrt(hd) + mask) v. */
    public static final class SelfAttention extends Layer<BertConfig> {
        private final Linear query;
        private final Linear key;
        private final Linear value;

        SelfAttention(BertConfig config, String path, long seed) {
            super(config, path);
            int d = config.hiddenSize();
            float std = config.initializerRange();
            this.query = registerLinear("query", d, d, true, std, seed);
            this.key = registerLinear("key", d, d, true, std, seed);
            this.value = registerLinear("value", d, d, true, std, seed);
            int hd = config.headDim();
            for (Linear l : new Linear[] {query, key, value}) {
                l.weight().splitUnit(0, hd);
                l.bias().splitUnit(0, hd);
            }
        }

        /** x [B, T, hidden] -> the heads' context [B, T, hidden], before the output dense. */
        public Tensor forward(Tensor x, Tensor maskBias, long dropoutSeed) {
            int b = x.globalShape()[0];
            int t = x.globalShape()[1];
            int h = config.numAttentionHeads();
            int hd = config.headDim();
            Tensor q = heads(query.forward(x), b, t, h, hd);
            Tensor k = heads(key.forward(x), b, t, h, hd);
            Tensor v = heads(value.forward(x), b, t, h, hd);
            Tensor y = Recompute.attentionCore(in -> core(in[0], in[1], in[2], in[3], hd, dropoutSeed), q, k, v, maskBias);
            return y.transpose(1, 2).reshape(b, t, config.hiddenSize());
        }

        /** softmax(q k^T / sqrt(hd) + mask) v, the probabilities dropped out when training as HF does. */
        private Tensor core(Tensor q, Tensor k, Tensor v, Tensor maskBias, int hd, long dropoutSeed) {
            Tensor y;
            float p = config.attentionProbsDropoutProb();
            if (isTraining() && p > 0f) {
                // HF drops attention probabilities: the unfused path
                Tensor scores = F.scale(F.matmul(q, k.transpose(-2, -1)), (float) (1.0 / Math.sqrt(hd)));
                if (maskBias != null) {
                    scores = F.add(scores, maskBias);
                }
                Tensor probs = F.dropout(F.softmax(scores, -1), p, true, DropoutSeeds.site(dropoutSeed, path + ".dropout"));
                y = F.matmul(probs, v);
            } else {
                y = F.attention(q, k, v, maskBias, false, Float.NaN);
            }
            return y;
        }

        private static Tensor heads(Tensor x, int b, int t, int h, int hd) {
            return x.reshape(b, t, h, hd).transpose(1, 2);
        }

        public Linear key() {
            return key;
        }

        public Linear value() {
            return value;
        }
    }

    /** HF BertIntermediate: dense (hidden -> intermediate) and the activation. */
    public static final class Intermediate extends Module {
        private final BertConfig config;
        private final Linear dense;

        Intermediate(BertConfig config, String path, long seed) {
            this.config = config;
            this.dense = registerModule("dense", new Linear(path + ".dense", config.hiddenSize(), config.intermediateSize(), true,
                    config.initializerRange(), seed));
        }

        public Tensor forward(Tensor x) {
            return BertActivations.apply(config.hiddenAct(), dense.forward(x));
        }

        public Linear dense() {
            return dense;
        }
    }

    /** HF BertSelfOutput / BertOutput: LayerNorm(residual + dropout(dense(x))). */
    public static final class Output extends Layer<BertConfig> {
        private final Linear dense;
        private final LayerNorm layerNorm;

        Output(BertConfig config, String path, int in, long seed) {
            super(config, path);
            this.dense = registerModule("dense", new Linear(path + ".dense", in, config.hiddenSize(), true, config.initializerRange(), seed));
            this.layerNorm = registerModule("LayerNorm", new LayerNorm(config.hiddenSize(), config.layerNormEps()));
        }

        public Tensor forward(Tensor x, Tensor residual, long dropoutSeed) {
            return layerNorm.forward(dense.forwardDropoutAdd(x, residual, config.hiddenDropoutProb(), isTraining(),
                    DropoutSeeds.site(dropoutSeed, path + ".dropout")));
        }

        public Linear dense() {
            return dense;
        }
    }
}

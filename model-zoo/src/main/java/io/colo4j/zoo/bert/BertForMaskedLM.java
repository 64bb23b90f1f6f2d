package io.colo4j.zoo.bert;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.hf.HfModel;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.ops.nn.Linear;
import io.colo4j.ops.nn.Params;

/**
 * HF's BertForMaskedLM as plain serial code: {@code bert} ({@link BertModel}) and the MLM head
 * {@code cls.predictions}: {@code transform} (dense, activation, LayerNorm), then logits =
 * h word_embeddings^T + {@code cls.predictions.bias}. The decoder is tied to
 * {@code bert.embeddings.word_embeddings} (no parameter of its own), so {@code namedParameters()} keys
 * are HF's minus the tied {@code cls.predictions.decoder.*}.
 *
 * <p>Initialisation follows HF: Linear and embedding weights Normal(0, initializer_range) (the
 * padding row of the word table 0), biases 0, LayerNorm 1/0; each parameter is seeded from the model
 * seed and its dotted name. Dropout masks come from the seed, the step ({@link #setStep}) and the site.
 */
public final class BertForMaskedLM extends HfModel<BertConfig> {
    private final BertModel bert;
    private final MlmHead cls;

    /** A randomly initialised model. */
    public BertForMaskedLM(BertConfig config, long seed) {
        super(config, seed);
        this.bert = registerModule("bert", new BertModel(config, "bert", seed));
        this.cls = registerModule("cls", new MlmHead(config, "cls", seed));
    }

    public BertModel bert() {
        return bert;
    }

    public MlmHead cls() {
        return cls;
    }

    /** The encoder's hidden states [B, T, hidden] (token types 0, no padding). */
    public Tensor hidden(IntTensor ids) {
        return bert.forward(ids, null, null, dropoutSeed());
    }

    /** ids [B, T] -> MLM logits [B, T, vocab] (token types 0, no padding). */
    public Tensor forward(IntTensor ids) {
        return forward(ids, null, null);
    }

    /** ids [B, T] with optional token types and attention mask [B, T] -> MLM logits [B, T, vocab]. */
    public Tensor forward(IntTensor ids, IntTensor tokenTypes, IntTensor attentionMask) {
        return logits(bert.forward(ids, tokenTypes, attentionMask, dropoutSeed()));
    }

    /** The MLM head over hidden states [B, T, hidden]: [B, T, vocab]. */
    public Tensor logits(Tensor hidden) {
        return F.linear(cls.predictions().transform().forward(hidden), bert.embeddings().wordEmbeddings().weight(),
                cls.predictions().bias());
    }

    /** Mean cross-entropy of the MLM logits against {@code labels} [B, T] (-100 = not masked, ignored). */
    @Override
    public Tensor loss(IntTensor ids, IntTensor labels) {
        return F.crossEntropyConsuming(forward(ids), labels);
    }

    /** HF BertOnlyMLMHead: {@code cls.predictions}. */
    public static final class MlmHead extends Module {
        private final Predictions predictions;

        MlmHead(BertConfig config, String path, long seed) {
            this.predictions = registerModule("predictions", new Predictions(config, path + ".predictions", seed));
        }

        public Predictions predictions() {
            return predictions;
        }
    }

    /** HF BertLMPredictionHead: {@code transform} and the output bias [vocab] (the decoder weight is tied). */
    public static final class Predictions extends Module {
        private final Parameter bias;
        private final Transform transform;

        Predictions(BertConfig config, String path, long seed) {
            this.bias = registerParameter("bias", Params.of(Init.zeros(), config.vocabSize()));
            this.transform = registerModule("transform", new Transform(config, path + ".transform", seed));
        }

        public Parameter bias() {
            return bias;
        }

        public Transform transform() {
            return transform;
        }
    }

    /** HF BertPredictionHeadTransform: LayerNorm(act(dense(x))). */
    public static final class Transform extends Module {
        private final BertConfig config;
        private final Linear dense;
        private final LayerNorm layerNorm;

        Transform(BertConfig config, String path, long seed) {
            this.config = config;
            this.dense = registerModule("dense", new Linear(path + ".dense", config.hiddenSize(), config.hiddenSize(), true,
                    config.initializerRange(), seed));
            this.layerNorm = registerModule("LayerNorm", new LayerNorm(config.hiddenSize(), config.layerNormEps()));
        }

        public Tensor forward(Tensor x) {
            return layerNorm.forward(BertActivations.apply(config.hiddenAct(), dense.forward(x)));
        }

        public Linear dense() {
            return dense;
        }
    }
}

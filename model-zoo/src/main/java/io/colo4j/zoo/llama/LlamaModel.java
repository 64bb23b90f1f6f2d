package io.colo4j.zoo.llama;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.zoo.hf.CausalLm;
import io.colo4j.zoo.hf.HfModel;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.ops.nn.Linear;
import io.colo4j.ops.nn.RmsNorm;
import io.colo4j.zoo.nn.TokenIds;

/**
 * HF's LlamaForCausalLM as plain serial code: {@code model} (embed_tokens, layers.N, norm) and an
 * untied {@code lm_head} (torch Linear [vocab, hidden], no bias). Parameter names and layouts are HF's,
 * so {@code namedParameters()} keys match HF checkpoints.
 *
 * <p>Initialisation follows HF's LlamaPreTrainedModel: Linear and Embedding weights
 * Normal(0, initializer_range), RMSNorm weights 1; each parameter is seeded from the model seed and its
 * dotted name. The only dropout is attention_dropout (0 in every published Llama); its masks are seeded
 * from the model seed, the step ({@link #setStep}) and the site's name.
 */
public final class LlamaModel extends HfModel<LlamaConfig> implements CausalLm {
    private final Base model;
    private final Linear lmHead;
    private final LlamaRotaryEmbedding rotary;

    /** HF's LlamaModel: the {@code model} member of LlamaForCausalLM. */
    public static final class Base extends Module {
        private final LlamaConfig config;
        private final Embedding embedTokens;
        private final ModuleList<LlamaDecoderLayer> layers;
        private final RmsNorm norm;

        Base(LlamaConfig config, long seed) {
            this.config = config;
            this.embedTokens = registerModule("embed_tokens", new Embedding("model.embed_tokens", config.vocabSize(), config.hiddenSize(),
                    config.initializerRange(), seed));
            this.layers = registerModule("layers", new ModuleList<>());
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                layers.add(new LlamaDecoderLayer(config, "model.layers." + i, seed));
            }
            this.norm = registerModule("norm", new RmsNorm(config.hiddenSize(), config.rmsNormEps()));
        }

        /** ids [B, T] -> hidden states [B, T, hidden] after the final norm. */
        Tensor forward(IntTensor ids, LlamaRotaryEmbedding rotary, long dropoutSeed, KvCache cache) {
            int t = TokenIds.seqLength(ids, "llama");
            int[] positions = KvCache.positions(cache, t, 0, "llama", "max_position_embeddings", config.maxPositionEmbeddings());
            Tensor[] cosSin = rotary.cosSin(positions[0], t);
            Tensor x = embedTokens.forward(ids);
            for (LlamaDecoderLayer layer : layers) {
                x = Recompute.layer("model.layers", in -> layer.forward(in[0], in[1], in[2], dropoutSeed, cache), x, cosSin[0], cosSin[1]);
            }
            if (cache != null) {
                cache.advance(t);
            }
            return norm.forward(x);
        }
    }

    /** A randomly initialised model. */
    public LlamaModel(LlamaConfig config, long seed) {
        super(config, seed);
        this.model = registerModule("model", new Base(config, seed));
        this.lmHead = registerModule("lm_head", new Linear("lm_head", config.hiddenSize(), config.vocabSize(), false,
                config.initializerRange(), seed));
        this.rotary = new LlamaRotaryEmbedding(config.headDim(), config.ropeTheta());
    }

    /** HF's {@code model} (embed_tokens, layers, norm). */
    public Base base() {
        return model;
    }

    public Linear lmHead() {
        return lmHead;
    }

    /** ids [B, T] -> logits [B, T, vocab] (vocab-parallel when lm_head is column-split). */
    public Tensor forward(IntTensor ids) {
        return forward(ids, null);
    }

    @Override
    public Tensor forward(IntTensor ids, KvCache cache) {
        return lmHead.forward(model.forward(ids, rotary, dropoutSeed(), cache));
    }

    /** Mean next-token cross-entropy of {@code forward(ids)} against {@code targets} [B, T] (-100 = ignore). */
    @Override
    public Tensor loss(IntTensor ids, IntTensor targets) {
        return F.crossEntropyConsuming(forward(ids), targets);
    }
}

package io.colo4j.zoo.opt;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.hf.CausalLm;
import io.colo4j.zoo.hf.HfModel;
import io.colo4j.zoo.nn.KvCache;

/**
 * HF's OPTForCausalLM as plain serial code: {@code model.decoder} (embed_tokens, embed_positions,
 * layers.N, final_layer_norm) and an LM head tied to embed_tokens (logits = x @ embed_tokens^T, no
 * lm_head parameter). Parameter names and the torch Linear [out, in] layout are HF's, so
 * {@code namedParameters()} keys match HF checkpoints.
 *
 * <p>Initialisation follows HF's OPTPreTrainedModel: Linear and Embedding weights Normal(0, init_std)
 * (the padding row of embed_tokens zero), biases 0, LayerNorm 1/0; each parameter is seeded from the
 * model seed and its dotted name.
 *
 * <p>Dropout masks are seeded from the model seed, the current step and the site's name: set the step
 * with {@link #setStep} before each training forward for reproducible runs.
 */
public final class OptModel extends HfModel<OptConfig> implements CausalLm {
    private final Base model;

    /** HF's OPTModel: the {@code model} member of OPTForCausalLM, holding {@code decoder}. */
    public static final class Base extends Module {
        private final OptDecoder decoder;

        Base(OptConfig config, long seed) {
            this.decoder = registerModule("decoder", new OptDecoder(config, "model.decoder", seed));
        }

        public OptDecoder decoder() {
            return decoder;
        }
    }

    /** A randomly initialised model. */
    public OptModel(OptConfig config, long seed) {
        super(config, seed);
        this.model = registerModule("model", new Base(config, seed));
    }

    public OptDecoder decoder() {
        return model.decoder();
    }

    /** ids [B, T] -> logits [B, T, vocab] (vocab-parallel when embed_tokens is). */
    public Tensor forward(IntTensor ids) {
        return forward(ids, null);
    }

    @Override
    public Tensor forward(IntTensor ids, KvCache cache) {
        Tensor hidden = model.decoder().forward(ids, dropoutSeed(), cache);
        return F.linear(hidden, model.decoder().embedTokens().weight(), null);
    }

    /** Mean next-token cross-entropy of {@code forward(ids)} against {@code targets} [B, T] (-100 = ignore). */
    @Override
    public Tensor loss(IntTensor ids, IntTensor targets) {
        return F.crossEntropyConsuming(forward(ids), targets);
    }

}

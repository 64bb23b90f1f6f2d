package io.colo4j.zoo.gpt2;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.hf.CausalLm;
import io.colo4j.zoo.hf.HfModel;
import io.colo4j.zoo.nn.KvCache;

/**
 * HF's GPT2LMHeadModel as plain serial code: {@code transformer} (wte, wpe, h.N, ln_f) and an LM head
 * tied to wte (logits = ln_f(x) @ wte^T, no lm_head parameter). Parameter names, shapes and the
 * Conv1D [in, out] layout are HF's, so {@code namedParameters()} keys match HF checkpoints.
 *
 * <p>Initialisation follows HF: weights Normal(0, initializer_range), the c_proj weights of every block
 * Normal(0, initializer_range / sqrt(2 n_layer)), biases 0, LayerNorm 1/0; each parameter is seeded
 * from the model seed and its dotted name, so its values do not depend on construction order or on
 * which other parameters exist.
 *
 * <p>Dropout masks are seeded from the model's dropout seed, the current step and the site's name:
 * set the step with {@link #setStep} before each training forward for reproducible runs.
 */
public final class Gpt2Model extends HfModel<Gpt2Config> implements CausalLm {
    private final Gpt2Transformer transformer;

    /** A randomly initialised model. */
    public Gpt2Model(Gpt2Config config, long seed) {
        super(config, seed);
        this.transformer = registerModule("transformer", new Gpt2Transformer(config, "transformer", seed));
    }

    public Gpt2Transformer transformer() {
        return transformer;
    }

    /** ids [B, T] -> logits [B, T, vocab]. */
    public Tensor forward(IntTensor ids) {
        return forward(ids, null);
    }

    @Override
    public Tensor forward(IntTensor ids, KvCache cache) {
        Tensor hidden = transformer.forward(ids, dropoutSeed(), cache);
        return F.linear(hidden, transformer.wte().weight(), null);
    }

    /** Mean next-token cross-entropy of {@code forward(ids)} against {@code targets} [B, T] (-100 = ignore). */
    @Override
    public Tensor loss(IntTensor ids, IntTensor targets) {
        return F.crossEntropyConsuming(forward(ids), targets);
    }

    /** HF's special init of residual projections (c_proj): initializer_range / sqrt(2 n_layer). */
    static float residualStd(Gpt2Config config) {
        return (float) (config.initializerRange() / Math.sqrt(2.0 * Math.max(config.nLayer(), 1)));
    }
}

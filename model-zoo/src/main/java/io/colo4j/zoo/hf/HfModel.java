package io.colo4j.zoo.hf;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.ops.nn.DropoutSeeds;

/**
 * A family's top-level model, as the zoo's shared code drives it: built from its config and a seed,
 * its dropout masks selected by the optimizer step ({@link #setStep}), its own loss.
 */
public abstract class HfModel<C extends HfConfig> extends Module {
    private final C config;
    private final long seed;
    private long step;

    protected HfModel(C config, long seed) {
        this.config = config;
        this.seed = seed;
    }

    public final C config() {
        return config;
    }

    public final long seed() {
        return seed;
    }

    /** Selects this step's dropout masks. */
    public final void setStep(long step) {
        this.step = step;
    }

    public final long step() {
        return step;
    }

    /** The seed this step's dropout sites draw their masks from. */
    protected final long dropoutSeed() {
        return DropoutSeeds.step(seed, step);
    }

    /** The model's own loss of {@code inputs} [B, T] against {@code labels} (-100 = ignore). */
    public abstract Tensor loss(IntTensor inputs, IntTensor labels);
}

package io.colo4j.ops.nn;

import io.colo4j.tensor.Init;

/**
 * Where dropout masks come from (every zoo model's, and {@link Dropout}'s): the model seed and the optimizer step give the
 * step's seed, and each dropout site (its dotted name) draws from that, so masks do not depend on the
 * order the sites run in, and a resumed run or another rank draws the same ones.
 */
public final class DropoutSeeds {
    private DropoutSeeds() {}

    /** The seed of step {@code step}'s masks. */
    public static long step(long modelSeed, long step) {
        return Init.Random.seed(modelSeed, "dropout/step/" + step);
    }

    /** The seed of site {@code site}'s mask within a step. */
    public static long site(long stepSeed, String site) {
        return Init.Random.seed(stepSeed, site);
    }
}

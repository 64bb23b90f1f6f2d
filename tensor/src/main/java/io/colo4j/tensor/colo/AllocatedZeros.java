package io.colo4j.tensor.colo;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;

/**
 * The parameters of a model built without values ({@link InitContext#openWithoutValues}): zeros, which the shard's
 * storage already holds when it is materialised ({@link ColoParameter} allocates it zero-filled), so filling writes
 * nothing. Fresh memory then stays untouched until something reads it: a sizing proxy's 7B-wide weights, which its
 * steps never read ({@code ProxyKernels} writes their products of zeros), are never faulted in.
 */
final class AllocatedZeros implements Init {
    static final AllocatedZeros INSTANCE = new AllocatedZeros();

    private AllocatedZeros() {}

    @Override
    public float valueAt(long index) {
        return 0f;
    }

    @Override
    public void fill(Tensor target, int[] fullShape, int[] blockOffset) {
        // zero-filled at allocation: nothing to write
    }
}

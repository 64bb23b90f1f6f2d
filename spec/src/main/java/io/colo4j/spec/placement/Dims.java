package io.colo4j.spec.placement;

import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;

/** Dims as torch takes them: a negative dim counts from the end ({@code -1} is the last). */
final class Dims {
    private Dims() {}

    /** {@code dim} as an index into a {@code rank}-d shape; a dim out of range stays out of range. */
    static int resolve(int dim, int rank) {
        return dim < 0 ? dim + rank : dim;
    }

    /** {@link #resolve}, or a {@link SpecException} "{@code context}: dim D is out of range for a R-d tensor". */
    static int resolveInRange(String context, int dim, int rank) {
        int resolved = resolve(dim, rank);
        if (resolved < 0 || resolved >= rank) {
            throw new SpecException(context + ": dim " + dim + " is out of range for a " + rank + "-d tensor");
        }
        return resolved;
    }

    /** Every entry's dim of {@code spec} resolved against {@code rank} (not range-checked). */
    static int[] resolveAll(ShardSpec spec, int rank) {
        int[] dims = spec.dims();
        for (int e = 0; e < dims.length; e++) {
            dims[e] = resolve(dims[e], rank);
        }
        return dims;
    }
}

package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * A concatenation that runs locally: concatenate the ranks' shards, in input order, along
 * {@link #dim()}; the result is the global {@link #globalShape()} laid out as
 * {@link #outputSpec()} (dims non-negative).
 */
public record LocalCat(DistSpec outputSpec, int[] globalShape, int[] localShape, int dim)
        implements LocalPlan<LocalCat> {

    public LocalCat {
        Objects.requireNonNull(outputSpec, "outputSpec");
        globalShape = globalShape.clone();
        localShape = localShape.clone();
    }

    @Override
    public int[] globalShape() {
        return globalShape.clone();
    }

    /** The shape every rank's concatenated shard has. */
    @Override
    public int[] localShape() {
        return localShape.clone();
    }

    @Override
    public boolean isLocal() {
        return true;
    }

    @Override
    public LocalCat orThrow() {
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LocalCat other
                && outputSpec.equals(other.outputSpec)
                && Arrays.equals(globalShape, other.globalShape)
                && Arrays.equals(localShape, other.localShape)
                && dim == other.dim;
    }

    @Override
    public int hashCode() {
        return Objects.hash(outputSpec, Arrays.hashCode(globalShape), Arrays.hashCode(localShape), dim);
    }

    @Override
    public String toString() {
        return "local cat(dim " + dim + ") -> " + Arrays.toString(globalShape) + " as " + outputSpec;
    }
}

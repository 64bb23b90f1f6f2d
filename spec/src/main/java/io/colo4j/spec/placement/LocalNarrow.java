package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * A narrow (slice, split, chunk) that runs locally: narrow each rank's shard along {@link #dim()}
 * from {@link #localStart()} for {@link #localLength()} elements; the result is the global
 * {@link #globalShape()} laid out as {@link #outputSpec()} (dims non-negative).
 */
public record LocalNarrow(DistSpec outputSpec, int[] globalShape, int[] localShape, int dim, int localStart,
        int localLength) implements LocalPlan<LocalNarrow> {

    public LocalNarrow {
        Objects.requireNonNull(outputSpec, "outputSpec");
        globalShape = globalShape.clone();
        localShape = localShape.clone();
    }

    @Override
    public int[] globalShape() {
        return globalShape.clone();
    }

    /** The shape every rank's narrowed shard has. */
    @Override
    public int[] localShape() {
        return localShape.clone();
    }

    @Override
    public boolean isLocal() {
        return true;
    }

    @Override
    public LocalNarrow orThrow() {
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LocalNarrow other
                && outputSpec.equals(other.outputSpec)
                && Arrays.equals(globalShape, other.globalShape)
                && Arrays.equals(localShape, other.localShape)
                && dim == other.dim
                && localStart == other.localStart
                && localLength == other.localLength;
    }

    @Override
    public int hashCode() {
        return Objects.hash(outputSpec, Arrays.hashCode(globalShape), Arrays.hashCode(localShape), dim, localStart,
                localLength);
    }

    @Override
    public String toString() {
        return "local narrow(dim " + dim + ", start " + localStart + ", length " + localLength + ") -> "
                + Arrays.toString(globalShape) + " as " + outputSpec;
    }
}

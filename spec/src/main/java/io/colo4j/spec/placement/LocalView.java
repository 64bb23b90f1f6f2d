package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * A view (reshape, flatten, unflatten, squeeze, unsqueeze) that runs locally: view each rank's
 * shard as {@link #localShape()}; the result is the global {@link #globalShape()} laid out as
 * {@link #outputSpec()} (dims non-negative).
 */
public record LocalView(DistSpec outputSpec, int[] globalShape, int[] localShape) implements LocalPlan<LocalView> {

    public LocalView {
        Objects.requireNonNull(outputSpec, "outputSpec");
        globalShape = globalShape.clone();
        localShape = localShape.clone();
    }

    @Override
    public int[] globalShape() {
        return globalShape.clone();
    }

    /** The shape to pass to the local tensor's view: explicit, no {@code -1}. */
    @Override
    public int[] localShape() {
        return localShape.clone();
    }

    @Override
    public boolean isLocal() {
        return true;
    }

    @Override
    public LocalView orThrow() {
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LocalView other
                && outputSpec.equals(other.outputSpec)
                && Arrays.equals(globalShape, other.globalShape)
                && Arrays.equals(localShape, other.localShape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(outputSpec, Arrays.hashCode(globalShape), Arrays.hashCode(localShape));
    }

    @Override
    public String toString() {
        return "local view to " + Arrays.toString(localShape) + " -> " + Arrays.toString(globalShape) + " as "
                + outputSpec;
    }
}

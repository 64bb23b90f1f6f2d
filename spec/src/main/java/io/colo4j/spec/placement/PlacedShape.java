package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * A global shape laid out by a spec, and the shape every rank then holds (the same on all ranks,
 * since shards divide evenly): what a planned layout comes to, without the tensor's name or the
 * group. The arrays are copied on the way in and on the way out.
 *
 * @param spec the layout; {@code null} where none could be decided (a rules plan's conflict)
 * @param globalShape the shape the spec splits (padded where a dim was padded to divide)
 * @param localShape what each rank holds
 */
public record PlacedShape(DistSpec spec, int[] globalShape, int[] localShape) {

    public PlacedShape {
        globalShape = globalShape.clone();
        localShape = localShape.clone();
    }

    /** A tensor every rank holds whole (or, with a {@code null} spec, one not placed at all). */
    public static PlacedShape whole(DistSpec spec, int[] shape) {
        return new PlacedShape(spec, shape, shape);
    }

    @Override
    public int[] globalShape() {
        return globalShape.clone();
    }

    @Override
    public int[] localShape() {
        return localShape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PlacedShape other
                && Objects.equals(spec, other.spec)
                && Arrays.equals(globalShape, other.globalShape)
                && Arrays.equals(localShape, other.localShape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(spec, Arrays.hashCode(globalShape), Arrays.hashCode(localShape));
    }

    /** {@code [4, 6] as shard(..)}. */
    @Override
    public String toString() {
        return Arrays.toString(globalShape) + " as " + spec;
    }
}

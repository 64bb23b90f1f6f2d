package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import java.util.Arrays;
import java.util.List;

/**
 * A global shape laid out by a spec, and the shape every rank then holds (the same on all ranks,
 * since shards divide evenly): what a planned layout comes to, without the tensor's name or the
 * group. The shapes are kept as immutable lists, so the record's own equality is value equality;
 * {@link #globalShape()} and {@link #localShape()} hand out fresh arrays.
 *
 * @param spec the layout; {@code null} where none could be decided (a rules plan's conflict)
 * @param global the shape the spec splits (padded where a dim was padded to divide)
 * @param local what each rank holds
 */
public record PlacedShape(DistSpec spec, List<Integer> global, List<Integer> local) {

    public PlacedShape {
        global = List.copyOf(global);
        local = List.copyOf(local);
    }

    public static PlacedShape of(DistSpec spec, int[] globalShape, int[] localShape) {
        return new PlacedShape(spec, listOf(globalShape), listOf(localShape));
    }

    /** A tensor every rank holds whole (or, with a {@code null} spec, one not placed at all). */
    public static PlacedShape whole(DistSpec spec, int[] shape) {
        return of(spec, shape, shape);
    }

    public int[] globalShape() {
        return global.stream().mapToInt(Integer::intValue).toArray();
    }

    public int[] localShape() {
        return local.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@code [4, 6] as shard(..)}. */
    @Override
    public String toString() {
        return global + " as " + spec;
    }

    private static List<Integer> listOf(int[] shape) {
        return Arrays.stream(shape).boxed().toList();
    }
}

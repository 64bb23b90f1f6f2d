package io.colo4j.spec.placement;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A distributed tensor in the brute-force model: the global value, its spec over a tp group and
 * every rank's local tensor. For a partial sum the global value is the sum of the locals.
 */
record DistributedBrute(String name, BruteTensor global, DistSpec spec, int groupSize, List<BruteTensor> locals) {

    /** A tensor of distinct values {@code base, base + 1, ...}, each rank holding its part of it. */
    static DistributedBrute of(String name, int[] shape, DistSpec spec, int groupSize, long base) {
        if (spec.kind() == PlacementKind.PARTIAL) {
            List<BruteTensor> summands = new ArrayList<>();
            BruteTensor sum = null;
            for (int r = 0; r < groupSize; r++) {
                BruteTensor summand = BruteTensor.iota(shape, base + 100_000L * (r + 1));
                summands.add(summand);
                sum = sum == null ? summand : sum.plus(summand);
            }
            return new DistributedBrute(name, sum, spec, groupSize, summands);
        }
        BruteTensor global = BruteTensor.iota(shape, base);
        return new DistributedBrute(name, global, spec, groupSize, expectedLocals(name, global, spec, groupSize));
    }

    static DistributedBrute of(String name, int[] shape, DistSpec spec, int groupSize) {
        return of(name, shape, spec, groupSize, 0);
    }

    /** What every rank must hold of {@code global} under a replicate or shard spec. */
    static List<BruteTensor> expectedLocals(String name, BruteTensor global, DistSpec spec, int groupSize) {
        ShardLayout layout = ShardLayout.of(name, global.shape, spec, groupSize);
        List<BruteTensor> locals = new ArrayList<>();
        for (int r = 0; r < groupSize; r++) {
            locals.add(global.slice(layout.ranges(r)));
        }
        return locals;
    }

    int[] shape() {
        return global.shape.clone();
    }

    /** Applies an op globally and, with its local arguments, on every rank; checks the result's layout. */
    DistributedBrute apply(UnaryOperator<BruteTensor> globalOp, DistSpec outSpec, UnaryOperator<BruteTensor> localOp) {
        List<BruteTensor> out = locals.stream().map(localOp).toList();
        DistributedBrute result = new DistributedBrute(name, globalOp.apply(global), outSpec, groupSize, out);
        result.assertConsistent();
        return result;
    }

    /** Every rank holds exactly the slice of the global value its spec says (or the summands add up). */
    void assertConsistent() {
        assertThat(locals).hasSize(groupSize);
        ShardLayout layout = ShardLayout.of(name, global.shape, spec, groupSize);
        if (spec.kind() == PlacementKind.PARTIAL) {
            BruteTensor sum = locals.getFirst();
            for (int r = 1; r < groupSize; r++) {
                sum = sum.plus(locals.get(r));
            }
            assertThat(sum).as("sum of the partial summands of %s", name).isEqualTo(global);
            return;
        }
        for (int r = 0; r < groupSize; r++) {
            assertThat(locals.get(r).shape).as("local shape of %s on rank %d", name, r)
                    .containsExactly(layout.localShape());
            assertThat(locals.get(r)).as("local %s on rank %d as %s", name, r, spec)
                    .isEqualTo(global.slice(layout.ranges(r)));
        }
    }

    /** Whether every rank's local, run through {@code localOp}, is its slice of {@code globalOut} under {@code outSpec}. */
    boolean holdsAs(BruteTensor globalOut, DistSpec outSpec, UnaryOperator<BruteTensor> localOp) {
        ShardLayout layout;
        try {
            layout = ShardLayout.of(name, globalOut.shape, outSpec, groupSize);
        } catch (RuntimeException e) {
            return false;
        }
        for (int r = 0; r < groupSize; r++) {
            BruteTensor local;
            try {
                local = localOp.apply(locals.get(r));
            } catch (RuntimeException e) {
                return false;
            }
            if (!local.equals(globalOut.slice(layout.ranges(r)))) {
                return false;
            }
        }
        return true;
    }
}

package io.colo4j.ops.dist;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.SpecException;
import io.colo4j.spec.placement.Redistribution;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.ColoParameter;
import java.util.Comparator;

/**
 * What running a candidate costs, compared first by the bytes of parameters it lays out differently,
 * then by the bytes per rank its forward conversions move (the inputs to their required specs, the
 * output to its final one), as {@link Redistribution#volume()} counts them. A parameter's layout is
 * the sharding rules' decision (it sets each rank's memory and share of the work), so a candidate
 * that gathers or re-splits a weight ranks below every one that keeps the weights as laid out.
 */
record StrategyCost(long parameterBytes, long movedBytes) implements Comparable<StrategyCost> {
    private static final Comparator<StrategyCost> ORDER =
            Comparator.comparingLong(StrategyCost::parameterBytes).thenComparingLong(StrategyCost::movedBytes);

    @Override
    public int compareTo(StrategyCost o) {
        return ORDER.compare(this, o);
    }

    /**
     * The cost of {@code s} for {@code call}, or null when it cannot run: a required spec does not fit
     * the tensor (a dim that does not divide by tp), or a shard would be zero-padded into a partial sum
     * (free in bytes, but tp times the work).
     */
    static StrategyCost of(OpCall call, Strategy s) {
        long parameterBytes = 0;
        long moved = 0;
        int tp = call.tp();
        for (int i = 0; i < call.size(); i++) {
            Tensor t = call.input(i);
            DistSpec required = s.inputs()[i];
            if (t == null || required == null) {
                continue;
            }
            int[] shape = call.shape(i);
            DistSpec current = t.isDistributed() ? ColoTensor.dist(t).spec() : Sbp.R;
            long bytes = bytes(shape, current, required, tp);
            if (bytes == INVALID) {
                return null;
            }
            if (bytes != SAME && t instanceof ColoParameter) {
                parameterBytes += Shapes.numel(shape) * Redistribution.FLOAT32_BYTES;
            } else if (bytes != SAME) {
                moved += bytes;
            }
        }
        if (s.after() != null) {
            long bytes = bytes(s.afterShape(), s.output(), s.after(), tp);
            if (bytes == INVALID) {
                return null;
            }
            moved += Math.max(bytes, 0);
        }
        return new StrategyCost(parameterBytes, moved);
    }

    /** Markers beside a byte count: the layouts already agree; the conversion cannot be chosen. */
    private static final long SAME = -1;
    private static final long INVALID = -2;

    /** Bytes each rank sends to convert, SAME or INVALID. */
    private static long bytes(int[] shape, DistSpec from, DistSpec to, int tp) {
        try {
            ShardLayout a = ShardLayout.of("input", shape, from, tp);
            ShardLayout b = ShardLayout.of("input", shape, to, tp);
            if (a.sameLayoutAs(b)) {
                return SAME;
            }
            if (b.effectiveKind() == PlacementKind.PARTIAL && a.effectiveKind() == PlacementKind.SHARD) {
                return INVALID;
            }
            return Redistribution.plan(a, b).sendBytesPerRank();
        } catch (SpecException e) {
            return INVALID;
        }
    }
}

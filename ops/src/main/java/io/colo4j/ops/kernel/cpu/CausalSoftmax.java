package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.F;
import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * The scaled, causal-masked row softmax over [..., T, T]: row i of each block keeps columns 0..i, the rest are 0.
 *
 * <p>A group of rows (8 KB) is copied into a thread's heap arrays in one bulk copy, its rows are computed there and
 * the group goes back in one bulk copy. Why: a causal row is short and its passes run a few vectors each, and every
 * vector access to a {@code MemorySegment} pays its checks again (class, scope, bounds: about 20 instructions, not
 * hoisted out of a loop of 1 to 4 trips), which made the row passes cost 2 to 3 times their arithmetic; an array
 * access pays one bounds check. The bulk copies stream memory at copy speed, which a row's own short reads do not.
 *
 * <p>Its bits are its own, not the plain softmax's: the exps' lanes are summed lane-wise, then in a fixed tree of
 * halves, the same in every execution mode and for any split of the rows over threads, since each row is computed
 * alone. The masked future is written as exact zeros whatever the kept prefix holds (NaN included).
 *
 * <p>Where its time goes (Zen 3, AVX2, one thread, [.., 64, 64], 48 MiB): the bulk copies alone take 9.8 ms and the
 * passes alone 12.5 ms, and the whole call 22.6 ms: the two do not overlap. The passes are mostly per-row cost: the
 * exp pass takes ~19 ns per row plus ~4 ns per kept vector. Taking 8 rows at a time transposed (columns as vectors:
 * one exp per column, the sums kept per row lane and added in the same tree, so the same bits) removes the per-row
 * reductions, but its two block transposes cost more than they save: 1.5x the time. Not adopted.
 */
final class CausalSoftmax {
    /**
     * Floats of one group of rows (8 KB: 32 rows of 64, one row at a time past 2048 columns), so that both arrays stay
     * in L1 beside everything else; 16 KB groups took ~20% more CPU per call at [.., 64, 64], 4 KB ones too.
     */
    private static final int GROUP_FLOATS = 1 << 11;
    private static final VectorShuffle<Float> SWAP_1 = swap(1);
    private static final VectorShuffle<Float> SWAP_2 = swap(2);
    private static final VectorShuffle<Float> SWAP_4 = swap(4);
    private static final VectorShuffle<Float> SWAP_8 = swap(8);

    private CausalSoftmax() {}

    /** The shuffle that swaps lane i with lane i ^ distance (the identity where the species has no such lane). */
    private static VectorShuffle<Float> swap(int distance) {
        return VectorShuffle.fromOp(S, i -> distance < L ? i ^ distance : i);
    }

    static void forward(Tensor x, float scale, Tensor out) {
        int n = x.size(-1);
        if (x.dim() < 2 || x.size(-2) != n) {
            throw new IllegalArgumentException("causal softmax needs [..., T, T], got last dims "
                    + (x.dim() < 2 ? "[" + n + "]" : x.size(-2) + "x" + n));
        }
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        int group = Math.max(1, GROUP_FLOATS / Math.max(n, 1));
        MemorySegment mx = x.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long oo = out.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            float[] xa = RowArrays.first(group * n);
            float[] oa = RowArrays.second(group * n);
            float[] stats = RowArrays.third(group);
            for (int b = from; b < to; b += group) {
                int end = Math.min(to, b + group);
                int floats = (end - b) * n;
                MemorySegment.copy(mx, F, (ox + (long) b * n) * Float.BYTES, xa, 0, floats);
                rows(xa, oa, floats, n, b % n + 1, scale, stats);
                MemorySegment.copy(oa, 0, mo, F, (oo + (long) b * n) * Float.BYTES, floats);
            }
        });
    }

    /**
     * The group's rows, pass by pass over all of them: each row's max, then its exps and sum, then the scaling by
     * 1 / sum and the zeros after. One row's passes are a chain of dependent reductions, while the rows of a pass are
     * independent, so the core overlaps them (row after row, the chains ran one at a time: 1.6x the CPU time at
     * [.., 64, 64]). Row k keeps {@code firstValid + k} columns, wrapping to 1 after n. Each pass is its own method
     * taking no vectors, so that none is boxed where C2 stops inlining.
     */
    private static void rows(float[] xa, float[] oa, int floats, int n, int firstValid, float scale, float[] stats) {
        int valid = firstValid;
        for (int base = 0, k = 0; base < floats; base += n, k++) {
            stats[k] = max(xa, base, valid) * scale;
            valid = valid == n ? 1 : valid + 1;
        }
        valid = firstValid;
        for (int base = 0, k = 0; base < floats; base += n, k++) {
            stats[k] = 1f / expAndSum(xa, oa, base, valid, scale, stats[k]);
            valid = valid == n ? 1 : valid + 1;
        }
        valid = firstValid;
        for (int base = 0, k = 0; base < floats; base += n, k++) {
            scaleAndZero(oa, base, n, valid, stats[k]);
            valid = valid == n ? 1 : valid + 1;
        }
    }

    /**
     * The max over the first {@code valid}, lane-wise then in a tree of halves, by compare and blend: cheaper than
     * {@code max}'s NaN and -0 rules, which change nothing here (a NaN in the row makes the sum, and so the row, NaN).
     * A carried vector is only ever an argument, and goes through {@link Vec#ONE} after the loop (see its note: the
     * masked {@code sum.add(e, kept)} this had boxed 136 MB per call once in about six runs of {@code bench kernels}).
     */
    private static float max(float[] xa, int base, int valid) {
        FloatVector low = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector m = low;
        int i = 0;
        for (; i + L <= valid; i += L) {
            FloatVector v = FloatVector.fromArray(S, xa, base + i);
            m = v.blend(m, v.compare(VectorOperators.GT, m).not());
        }
        if (i < valid) {
            VectorMask<Float> kept = S.indexInRange(i, valid);
            FloatVector v = FloatVector.fromArray(S, xa, base + i);
            m = v.blend(m, v.compare(VectorOperators.GT, m, kept).not());
        }
        m = Vec.ONE.mul(m);
        if (L >= 16) {
            m = larger(m, m.rearrange(SWAP_8));
        }
        if (L >= 8) {
            m = larger(m, m.rearrange(SWAP_4));
        }
        if (L >= 4) {
            m = larger(m, m.rearrange(SWAP_2));
        }
        if (L >= 2) {
            m = larger(m, m.rearrange(SWAP_1));
        }
        return m.lane(0);
    }

    private static FloatVector larger(FloatVector a, FloatVector b) {
        return a.blend(b, b.compare(VectorOperators.GT, a));
    }

    /**
     * Stores e^(x scale - shift) over the first {@code valid} and returns their sum: lane-wise, then a tree of halves.
     * The carried sum is only ever an argument (see {@link #max}).
     */
    private static float expAndSum(float[] xa, float[] oa, int base, int valid, float scale, float shift) {
        FloatVector sum = FloatVector.zero(S);
        for (int i = 0; i < valid; i += L) {
            FloatVector e = VecMath.expShifted(FloatVector.fromArray(S, xa, base + i).mul(scale).sub(shift));
            e.intoArray(oa, base + i);
            if (i + L > valid) {
                e = e.blend(0f, S.indexInRange(i, valid).not());
            }
            sum = e.add(sum);
        }
        sum = Vec.ONE.mul(sum);
        if (L >= 16) {
            sum = sum.add(sum.rearrange(SWAP_8));
        }
        if (L >= 8) {
            sum = sum.add(sum.rearrange(SWAP_4));
        }
        if (L >= 4) {
            sum = sum.add(sum.rearrange(SWAP_2));
        }
        if (L >= 2) {
            sum = sum.add(sum.rearrange(SWAP_1));
        }
        return sum.lane(0);
    }

    /** The kept exps times inv, a partial vector's other lanes and every later one zeros, up to the row's n. */
    private static void scaleAndZero(float[] oa, int base, int n, int valid, float inv) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= valid; i += L) {
            FloatVector.fromArray(S, oa, base + i).mul(inv).intoArray(oa, base + i);
        }
        if (i < valid) {
            FloatVector last = zero.blend(FloatVector.fromArray(S, oa, base + i).mul(inv), S.indexInRange(i, valid));
            if (i + L <= n) {
                last.intoArray(oa, base + i);
            } else {
                last.intoArray(oa, base + i, S.indexInRange(i, n));
            }
            i += L;
        }
        for (; i + L <= n; i += L) {
            zero.intoArray(oa, base + i);
        }
        if (i < n) {
            zero.intoArray(oa, base + i, S.indexInRange(i, n));
        }
    }
}

package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.F;
import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.ORDER;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Row softmax over the last dim fused with its input scale (a causal one goes to {@link CausalSoftmax}); and its
 * backward. Its row passes also serve the fused attention's causal rows ({@code valid} < n) and cross-entropy.
 *
 * <p>The passes read their inputs from the tensor's memory and write to heap arrays ({@link RowArrays}), whose rows
 * then go out in one bulk copy. Why: every vector access to a {@code MemorySegment} in a loop that also stores to a
 * segment pays its checks again (class, scope, bounds: about 15 instructions each, which C2 does not hoist past such a
 * store), so an exp pass that stored to a segment took ~1.4x the time of the same pass storing to an array, and a
 * load-scale-store pass ~4x; loops that only load from segments keep their checks out of the loop.
 */
final class Softmax {
    /** Floats per block of short rows copied at once (16 KB, in L1); a longer row is a block of its own. */
    private static final int BLOCK_FLOATS = 1 << 12;

    private Softmax() {}

    static void forward(Tensor x, float scale, boolean causal, Tensor out) {
        if (causal) {
            CausalSoftmax.forward(x, scale, out);
            return;
        }
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        MemorySegment mx = x.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long oo = out.offset();
        int block = Math.max(1, BLOCK_FLOATS / Math.max(n, 1));
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            float[] a = RowArrays.first(block * n);
            for (int b = from; b < to; b += block) {
                int end = Math.min(to, b + block);
                int floats = (end - b) * n;
                for (int base = 0; base < floats; base += n) {
                    row(mx, ox + (long) b * n + base, a, base, n, n, scale, null, 0);
                }
                MemorySegment.copy(a, 0, mo, F, (oo + (long) b * n) * Float.BYTES, floats);
            }
        });
    }

    /**
     * A row of {@code mx} into {@code a}, in three passes (max; exp, sum and store; scale), each its own method taking
     * no vectors: C2 stops inlining our helpers once exp's vector code has used its node budget, and a vector passed
     * to a call that was not inlined is boxed on the heap. With {@code stats} non-null, the row's shift and 1 / sum go
     * to {@code stats[sBase]} and {@code stats[sBase + 1]} ({@link #recomputeRow} gives the same bits from them).
     */
    static void row(MemorySegment mx, long xBase, float[] a, int base, int n, int valid, float scale,
                    MemorySegment stats, long sBase) {
        float shift = max(mx, xBase, valid) * scale;
        float inv = 1f / expAndSum(mx, xBase, a, base, valid, scale, shift);
        scaleAndZero(a, base, n, valid, inv);
        if (stats != null) {
            Vec.set(stats, sBase, shift);
            Vec.set(stats, sBase + 1, inv);
        }
    }

    /** A row's probabilities again, into {@code a}, from its scores in {@code mx} and its saved shift and 1 / sum. */
    static void recomputeRow(MemorySegment mx, long xBase, float[] a, int base, int n, int valid, float scale,
                             float shift, float inv) {
        expAndSum(mx, xBase, a, base, valid, scale, shift);
        scaleAndZero(a, base, n, valid, inv);
    }

    /**
     * The row's max over its first {@code valid} elements in four independent chains (max is exact in any order, and
     * one chain would wait on each max's latency); a partial last vector joins with -inf in its masked-off lanes.
     */
    static float max(MemorySegment mx, long xBase, int valid) {
        FloatVector low = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector m0 = low;
        FloatVector m1 = low;
        FloatVector m2 = low;
        FloatVector m3 = low;
        int i = 0;
        // the carried maxima are only arguments (Vec.ONE's note); max is the same in either order
        for (; i + 4 * L <= valid; i += 4 * L) {
            m0 = FloatVector.fromMemorySegment(S, mx, (xBase + i) * Float.BYTES, ORDER).max(m0);
            m1 = FloatVector.fromMemorySegment(S, mx, (xBase + i + L) * Float.BYTES, ORDER).max(m1);
            m2 = FloatVector.fromMemorySegment(S, mx, (xBase + i + 2 * L) * Float.BYTES, ORDER).max(m2);
            m3 = FloatVector.fromMemorySegment(S, mx, (xBase + i + 3 * L) * Float.BYTES, ORDER).max(m3);
        }
        for (; i < valid; i += L) {
            VectorMask<Float> m = S.indexInRange(i, valid);
            m0 = FloatVector.fromMemorySegment(S, mx, (xBase + i) * Float.BYTES, ORDER, m).blend(low, m.not()).max(m0);
        }
        return low.max(m0).max(m1).max(low.max(m2).max(m3)).reduceLanes(VectorOperators.MAX);
    }

    /**
     * Writes e^(x scale - shift) into {@code a} and returns their sum: full vectors' lanes in lane order, then the
     * tail's one by one. The tail (up to L - 1 elements; a causal row's tail is any length) goes through the scalar twin
     * of the vector exp, the same bits, since a second inlined vector exp would exhaust C2's budget and box.
     */
    static float expAndSum(MemorySegment mx, long xBase, float[] a, int base, int valid, float scale, float shift) {
        FloatVector vsum = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= valid; i += L) {
            FloatVector e = VecMath.expShifted(FloatVector.fromMemorySegment(S, mx, (xBase + i) * Float.BYTES, ORDER)
                    .mul(scale).sub(shift));
            e.intoArray(a, base + i);
            vsum = e.add(vsum);
        }
        vsum = Vec.ONE.mul(vsum);
        float sum = 0f;
        for (int lane = 0; lane < L; lane++) {
            sum += vsum.lane(lane); // VecMath.sum's order; a call here would be refused, boxing vsum
        }
        for (; i < valid; i++) {
            float e = VecMath.expShifted(Vec.get(mx, xBase + i) * scale - shift);
            a[base + i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * {@link #expAndSum} without stores, the same sum's bits, while also taking the max of the next row at
     * {@code nextBase} (into {@code nextMax[0]}, exact as {@link #max}'s). The exps compute from a row already in cache
     * while the next row streams in from memory beside them: run one after the other, the two passes waited on memory
     * and on the exps' arithmetic in turn.
     */
    static float expAndSumBeside(MemorySegment mx, long xBase, int valid, float scale, float shift, long nextBase,
                                 float[] nextMax) {
        FloatVector low = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector m = low;
        FloatVector vsum = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= valid; i += L) {
            m = FloatVector.fromMemorySegment(S, mx, (nextBase + i) * Float.BYTES, ORDER).max(m);
            FloatVector e = VecMath.expShifted(FloatVector.fromMemorySegment(S, mx, (xBase + i) * Float.BYTES, ORDER)
                    .mul(scale).sub(shift));
            vsum = e.add(vsum);
        }
        if (i < valid) {
            VectorMask<Float> kept = S.indexInRange(i, valid);
            m = FloatVector.fromMemorySegment(S, mx, (nextBase + i) * Float.BYTES, ORDER, kept).blend(low, kept.not()).max(m);
        }
        nextMax[0] = low.max(m).reduceLanes(VectorOperators.MAX);
        vsum = Vec.ONE.mul(vsum);
        float sum = 0f;
        for (int lane = 0; lane < L; lane++) {
            sum += vsum.lane(lane); // expAndSum's order
        }
        for (; i < valid; i++) {
            sum += VecMath.expShifted(Vec.get(mx, xBase + i) * scale - shift);
        }
        return sum;
    }

    /** Multiplies the first {@code valid} elements by inv and zeroes the rest of the row's n (a causal row's future). */
    private static void scaleAndZero(float[] a, int base, int n, int valid, float inv) {
        int i = 0;
        for (; i + L <= valid; i += L) {
            FloatVector.fromArray(S, a, base + i).mul(inv).intoArray(a, base + i);
        }
        for (; i < valid; i++) {
            a[base + i] *= inv;
        }
        for (; i < n; i++) {
            a[base + i] = 0f;
        }
    }

    static void backward(Tensor y, Tensor gradOut, float scale, Tensor gradIn) {
        int n = y.size(-1);
        int rows = Math.toIntExact(y.numel() / Math.max(n, 1));
        MemorySegment my = y.segment();
        MemorySegment mg = gradOut.segment();
        MemorySegment mo = gradIn.segment();
        long oy = y.offset();
        long og = gradOut.offset();
        long oo = gradIn.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                backwardRow(my, oy + (long) r * n, mg, og + (long) r * n, mo, oo + (long) r * n, n, scale);
            }
        });
    }

    /**
     * One row of {@link #backward}; may run in place over gradOut (mg == mo, gb == ob). Two passes, each its own method
     * taking no vectors, with the JDK's force-inlined loads and stores (through helpers of ours that C2 left out of line,
     * the vectors were boxed: 491 KB per 16K-float call in a fresh clone's test run).
     */
    static void backwardRow(MemorySegment my, long yb, MemorySegment mg, long gb, MemorySegment mo, long ob, int n, float scale) {
        float dot = rowDot(my, yb, mg, gb, n);
        scaledDifference(my, yb, mg, gb, mo, ob, n, scale, dot);
    }

    /** sum y g over the row: lane-wise, the lanes in lane order, then the tail. */
    private static float rowDot(MemorySegment my, long yb, MemorySegment mg, long gb, int n) {
        int bound = S.loopBound(n);
        FloatVector vdot = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            vdot = FloatVector.fromMemorySegment(S, my, (yb + i) * Float.BYTES, ORDER)
                    .fma(FloatVector.fromMemorySegment(S, mg, (gb + i) * Float.BYTES, ORDER), vdot);
        }
        vdot = Vec.ONE.mul(vdot);
        float dot = 0f;
        for (int lane = 0; lane < L; lane++) { // VecMath.sum's order, inline: a call taking a vector boxes it
            dot += vdot.lane(lane);
        }
        for (; i < n; i++) {
            dot += Vec.get(my, yb + i) * Vec.get(mg, gb + i);
        }
        return dot;
    }

    /** (g - dot) y scale over the row. */
    private static void scaledDifference(MemorySegment my, long yb, MemorySegment mg, long gb, MemorySegment mo, long ob,
                                         int n, float scale, float dot) {
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromMemorySegment(S, mg, (gb + i) * Float.BYTES, ORDER).sub(dot)
                    .mul(FloatVector.fromMemorySegment(S, my, (yb + i) * Float.BYTES, ORDER)).mul(scale)
                    .intoMemorySegment(mo, (ob + i) * Float.BYTES, ORDER);
        }
        for (; i < n; i++) {
            Vec.set(mo, ob + i, scale * Vec.get(my, yb + i) * (Vec.get(mg, gb + i) - dot));
        }
    }
}

package io.colo4j.ops.kernel.cpu;

import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dropout drawn from each element's global index (so a shard draws the serial model's bits for its
 * elements), and the fused bias + dropout + residual. The mask is never stored: backward redraws it.
 */
final class DropoutKernels {
    /** The draws run in 64-bit lanes; the floats they scale, in as many 32-bit lanes. */
    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FS = VectorSpecies.of(float.class, VectorShape.forBitSize(LS.length() * Integer.SIZE));
    private static final int N = LS.length();
    private static final LongVector IOTA = LongVector.zero(LS).addIndex(1);
    /** The counter's increment from one vector of elements to the next (wrapping). */
    private static final long STEP = N * DropoutBits.GOLDEN;
    /** Elements per task of the kernel pool. */
    private static final int GRAIN = 1 << 14;

    private DropoutKernels() {}

    /** out = in * mask (in and out contiguous, of index's element count). */
    static void dropout(DropoutBits bits, GlobalIndex index, Tensor in, Tensor out) {
        MemorySegment mi = in.segment();
        MemorySegment mo = out.segment();
        long oi = in.offset();
        long oo = out.offset();
        int n = checkedNumel("dropout", index, in, out);
        if (bits.keepsAll()) {
            CpuThreads.parallelFor(n, GRAIN, (from, to) -> MemorySegment.copy(mi, (oi + from) * Float.BYTES,
                    mo, (oo + from) * Float.BYTES, (long) (to - from) * Float.BYTES));
            return;
        }
        overSegments(index, n,
                (from, to, g) -> stretch(bits, g, mi, oi + from, null, 0, null, 0, mo, oo + from, to - from));
    }

    /**
     * out = residual + (x + bias[e % C]) * mask; bias [C] (null: none), the rest contiguous and alike. Where nothing is
     * dropped the draws, and so the elements' global indices, play no part: {@link #add} instead of {@link #stretch}.
     */
    static void biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, DropoutBits bits, GlobalIndex index, Tensor out) {
        int n = checkedNumel("bias_dropout_add", index, x, out);
        if (residual.numel() != n || !residual.isContiguous()) {
            throw new IllegalArgumentException("bias_dropout_add: residual must be contiguous with x's " + n + " elements, got "
                    + residual.numel());
        }
        MemorySegment mx = x.segment();
        MemorySegment mr = residual.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long or = residual.offset();
        long oo = out.offset();
        boolean keepsAll = bits.keepsAll();
        SegmentBody body;
        if (bias == null) {
            body = (from, to, g) -> {
                if (keepsAll) {
                    add(mx, ox + from, null, 0, mr, or + from, mo, oo + from, to - from);
                } else {
                    stretch(bits, g, mx, ox + from, null, 0, mr, or + from, mo, oo + from, to - from);
                }
            };
        } else {
            MemorySegment mb = bias.segment();
            long ob = bias.offset();
            int c = Math.toIntExact(bias.numel());
            body = (from, to, g) -> {
                for (int e = from; e < to; ) { // stretches within one bias row
                    int col = e % c;
                    int count = Math.min(to - e, c - col);
                    if (keepsAll) {
                        add(mx, ox + e, mb, ob + col, mr, or + e, mo, oo + e, count);
                    } else {
                        stretch(bits, g + (e - from), mx, ox + e, mb, ob + col, mr, or + e, mo, oo + e, count);
                    }
                    e += count;
                }
            };
        }
        if (keepsAll) {
            CpuThreads.parallelFor(n, GRAIN, (from, to) -> body.apply(from, to, 0));
        } else {
            overSegments(index, n, body);
        }
    }

    /**
     * out[e] = [residual[e] +] (x[e] [+ bias[e]]) * mask(g + e) for e in [0, count), offsets in floats; a null bias or
     * residual is left out (loop-invariant tests, unswitched). The draws are written out here, in the one loop, not in
     * a helper: a helper that C2 did not inline boxed its vectors (75 MB per 12M-float call in some processes; a load helper
     * too, 8 bytes per float in a test JVM), so the loads are the JDK's own force-inlined ones. The
     * hash input advances by a constant per vector instead of being multiplied each time (integer arithmetic wraps
     * exactly: the same values, one 64-bit multiply of three fewer); (bits >>> 11) < threshold is
     * {@link DropoutBits#scale}'s (bits >>> 11) + 1 <= threshold (the shifted bits are below 2^53). p == 0 (eval, or no
     * dropout) draws nothing.
     */
    private static void stretch(DropoutBits bits, long g, MemorySegment mx, long ox, MemorySegment mb, long ob,
                                MemorySegment mr, long or, MemorySegment mo, long oo, int count) {
        long threshold = bits.threshold();
        float keep = bits.keep();
        LongVector step = LongVector.broadcast(LS, STEP);
        // one step back, as each vector advances first: the carried z is then only an argument (Vec.ONE's note)
        LongVector carried = IOTA.add(g).mul(DropoutBits.GOLDEN).add(bits.base()).sub(step);
        FloatVector kept = FloatVector.broadcast(FS, keep);
        int e = 0;
        for (; e + N <= count; e += N) {
            LongVector z = step.add(carried);
            carried = z;
            FloatVector v = FloatVector.fromMemorySegment(FS, mx, (ox + e) * Float.BYTES, Vec.ORDER);
            if (mb != null) {
                v = v.add(FloatVector.fromMemorySegment(FS, mb, (ob + e) * Float.BYTES, Vec.ORDER));
            }
            if (threshold != 0) {
                LongVector h = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xbf58476d1ce4e5b9L);
                h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 27)).mul(0x94d049bb133111ebL);
                h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 31));
                VectorMask<Long> dropped = h.lanewise(VectorOperators.LSHR, 11).compare(VectorOperators.LT, threshold);
                v = v.mul(kept.blend(0f, dropped.cast(FS)));
            } else {
                v = v.mul(kept);
            }
            if (mr != null) {
                v = FloatVector.fromMemorySegment(FS, mr, (or + e) * Float.BYTES, Vec.ORDER).add(v);
            }
            v.intoMemorySegment(mo, (oo + e) * Float.BYTES, Vec.ORDER);
        }
        for (; e < count; e++) {
            float v = Vec.get(mx, ox + e);
            if (mb != null) {
                v += Vec.get(mb, ob + e);
            }
            v *= threshold == 0 ? keep : bits.scale(g + e);
            Vec.set(mo, oo + e, mr == null ? v : Vec.get(mr, or + e) + v);
        }
    }

    private interface SegmentBody {
        /** Local elements [from, to), the first at global index g and the rest consecutive. */
        void apply(int from, int to, long g);
    }

    /**
     * out[e] = residual[e] + (x[e] [+ bias[e]]) for e in [0, count): {@link #stretch} where nothing is dropped
     * (p == 0), the same bits (its factor is then exactly 1) at the full float width and without draws; a null bias is
     * left out.
     */
    private static void add(MemorySegment mx, long ox, MemorySegment mb, long ob, MemorySegment mr, long or,
                            MemorySegment mo, long oo, int count) {
        int e = 0;
        for (; e + Vec.L <= count; e += Vec.L) {
            FloatVector v = FloatVector.fromMemorySegment(Vec.S, mx, (ox + e) * Float.BYTES, Vec.ORDER);
            if (mb != null) {
                v = v.add(FloatVector.fromMemorySegment(Vec.S, mb, (ob + e) * Float.BYTES, Vec.ORDER));
            }
            FloatVector.fromMemorySegment(Vec.S, mr, (or + e) * Float.BYTES, Vec.ORDER).add(v)
                    .intoMemorySegment(mo, (oo + e) * Float.BYTES, Vec.ORDER);
        }
        for (; e < count; e++) {
            float v = Vec.get(mx, ox + e);
            if (mb != null) {
                v += Vec.get(mb, ob + e);
            }
            Vec.set(mo, oo + e, Vec.get(mr, or + e) + v);
        }
    }

    /** Every local element with its global index, in parallel, one call per stretch of consecutive global indices. */
    private static void overSegments(GlobalIndex index, int n, SegmentBody body) {
        int runLength = index.runLength();
        CpuThreads.parallelFor(n, GRAIN, (from, to) -> {
            for (int e = from; e < to; ) {
                int run = e / runLength;
                int end = (int) Math.min(to, (long) (run + 1) * runLength);
                body.apply(e, end, index.start(run) + (e - (long) run * runLength));
                e = end;
            }
        });
    }

    private static int checkedNumel(String op, GlobalIndex index, Tensor in, Tensor out) {
        if (!in.isContiguous() || !out.isContiguous()) {
            throw new IllegalArgumentException(op + ": input and output must be contiguous");
        }
        if (in.numel() != out.numel() || index.numel() != in.numel()) {
            throw new IllegalArgumentException(op + ": input has " + in.numel() + " elements, output " + out.numel()
                    + ", global index " + index);
        }
        return Math.toIntExact(in.numel());
    }
}

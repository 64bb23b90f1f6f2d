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

    private DropoutKernels() {}

    /** out = in * mask (in and out contiguous, of index's element count). */
    static void dropout(DropoutBits bits, GlobalIndex index, Tensor in, Tensor out) {
        MemorySegment mi = in.segment();
        MemorySegment mo = out.segment();
        long oi = in.offset();
        long oo = out.offset();
        overSegments(index, checkedNumel("dropout", index, in, out), (from, to, g) -> {
            int e = from;
            LongVector z = counters(bits, g);
            for (; e + N <= to; e += N, g += N, z = z.add(STEP)) {
                load(mi, oi + e).mul(scales(bits, z)).intoMemorySegment(mo, (oo + e) * Float.BYTES, Vec.ORDER);
            }
            for (; e < to; e++, g++) {
                Vec.set(mo, oo + e, Vec.get(mi, oi + e) * scale(bits, g));
            }
        });
    }

    /** out = residual + (x + bias[e % C]) * mask; bias [C] (null: none), the rest contiguous and alike. */
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
        if (bias == null) {
            overSegments(index, n, (from, to, g) -> {
                int e = from;
                LongVector z = counters(bits, g);
                for (; e + N <= to; e += N, g += N, z = z.add(STEP)) {
                    load(mr, or + e).add(load(mx, ox + e).mul(scales(bits, z))).intoMemorySegment(mo, (oo + e) * Float.BYTES, Vec.ORDER);
                }
                for (; e < to; e++, g++) {
                    Vec.set(mo, oo + e, Vec.get(mr, or + e) + Vec.get(mx, ox + e) * scale(bits, g));
                }
            });
            return;
        }
        MemorySegment mb = bias.segment();
        long ob = bias.offset();
        int c = Math.toIntExact(bias.numel());
        overSegments(index, n, (from, to, g) -> {
            LongVector z = counters(bits, g);
            for (int e = from, col = from % c; e < to; ) {
                if (e + N <= to && col + N <= c) {
                    FloatVector v = load(mx, ox + e).add(load(mb, ob + col)).mul(scales(bits, z));
                    load(mr, or + e).add(v).intoMemorySegment(mo, (oo + e) * Float.BYTES, Vec.ORDER);
                    e += N;
                    g += N;
                    col += N;
                    z = z.add(STEP);
                } else {
                    Vec.set(mo, oo + e, Vec.get(mr, or + e) + (Vec.get(mx, ox + e) + Vec.get(mb, ob + col)) * scale(bits, g));
                    e++;
                    g++;
                    col++;
                    z = z.add(DropoutBits.GOLDEN);
                }
                if (col == c) {
                    col = 0;
                }
            }
        });
    }

    /**
     * The hash inputs base + g' golden of global elements g' = g .. g + N - 1. A loop adds {@link #STEP} per vector (and
     * golden per element it steps alone) instead of multiplying each time: integer arithmetic wraps exactly, so the
     * same values with one 64-bit multiply fewer of the three per vector.
     */
    private static LongVector counters(DropoutBits bits, long g) {
        return IOTA.add(g).mul(DropoutBits.GOLDEN).add(bits.base());
    }

    /**
     * The mask factors of the elements whose {@link #counters} are z: {@link DropoutBits#scale} lane by lane, the same
     * bits ((bits >>> 11) + 1 <= threshold is (bits >>> 11) < threshold: the shifted bits are below 2^53, no overflow).
     */
    private static FloatVector scales(DropoutBits bits, LongVector counters) {
        if (bits.threshold() == 0) {
            return FloatVector.broadcast(FS, bits.keep());
        }
        LongVector z = counters;
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xbf58476d1ce4e5b9L);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94d049bb133111ebL);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
        VectorMask<Long> dropped = z.lanewise(VectorOperators.LSHR, 11).compare(VectorOperators.LT, bits.threshold());
        return FloatVector.broadcast(FS, bits.keep()).blend(0f, dropped.cast(FS));
    }

    private static FloatVector load(MemorySegment m, long index) {
        return FloatVector.fromMemorySegment(FS, m, index * Float.BYTES, Vec.ORDER);
    }

    /** The mask factor of global element g; p == 0 (eval, or no dropout) draws nothing. */
    private static float scale(DropoutBits bits, long g) {
        return bits.threshold() == 0 ? bits.keep() : bits.scale(g);
    }

    private interface SegmentBody {
        /** Local elements [from, to), the first at global index g and the rest consecutive. */
        void apply(int from, int to, long g);
    }

    /** Every local element with its global index, in parallel, one call per stretch of consecutive global indices. */
    private static void overSegments(GlobalIndex index, int n, SegmentBody body) {
        int runLength = index.runLength();
        CpuThreads.parallelFor(n, 1 << 14, (from, to) -> {
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

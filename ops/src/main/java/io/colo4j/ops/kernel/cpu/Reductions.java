package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/** Sums that undo broadcasting: a gradient reduced back to an input's shape. */
final class Reductions {
    private Reductions() {}

    static void sumTo(Tensor in, Tensor out) {
        int[] is = in.shape();
        int[] os = out.shape();
        if (is.length != os.length) {
            throw new IllegalArgumentException("sumTo: rank " + is.length + " vs " + os.length);
        }
        int rank = is.length;
        int lead = 0;
        while (lead < rank && os[lead] == 1) {
            lead++;
        }
        boolean trailingKept = true;
        for (int d = lead; d < rank; d++) {
            trailingKept &= os[d] == is[d];
        }
        if (trailingKept && in.isContiguous() && out.isContiguous()) {
            long inner = out.numel();
            long outer = inner == 0 ? 0 : in.numel() / inner;
            columnSums(in.segment(), in.offset(), Math.toIntExact(outer), Math.toIntExact(inner), out.segment(), out.offset());
            return;
        }
        generic(in, out);
    }

    /** out[j] = sum_i in[i, j]; parallel over column blocks so each sum has one fixed order. */
    private static void columnSums(MemorySegment in, long inOff, int rows, int cols, MemorySegment out, long outOff) {
        int block = 256;
        int blocks = (cols + block - 1) / block;
        CpuThreads.parallelFor(blocks, Math.max(1, 4096 / Math.max(rows, 1)), (from, to) -> {
            for (int bIdx = from; bIdx < to; bIdx++) {
                int c0 = bIdx * block;
                int c1 = Math.min(cols, c0 + block);
                for (int c = c0; c < c1; c++) {
                    Vec.set(out, outOff + c, 0f);
                }
                for (int r = 0; r < rows; r++) {
                    long rowBase = inOff + (long) r * cols;
                    int c = c0;
                    for (; c + L <= c1; c += L) {
                        FloatVector.fromMemorySegment(S, out, (outOff + c) * Float.BYTES, Vec.ORDER)
                                .add(FloatVector.fromMemorySegment(S, in, (rowBase + c) * Float.BYTES, Vec.ORDER))
                                .intoMemorySegment(out, (outOff + c) * Float.BYTES, Vec.ORDER);
                    }
                    for (; c < c1; c++) {
                        Vec.set(out, outOff + c, Vec.get(out, outOff + c) + Vec.get(in, rowBase + c));
                    }
                }
            }
        });
    }

    private static void generic(Tensor in, Tensor out) {
        int[] is = in.shape();
        int[] os = out.shape();
        long[] si = in.strides();
        long[] so = out.strides();
        int rank = is.length;
        MemorySegment mi = in.segment();
        MemorySegment mo = out.segment();
        out.fill(0f);
        long n = in.numel();
        int[] idx = new int[rank];
        for (long e = 0; e < n; e++) {
            long pi = in.offset();
            long po = out.offset();
            for (int d = 0; d < rank; d++) {
                pi += idx[d] * si[d];
                po += (os[d] == 1 ? 0 : idx[d]) * so[d];
            }
            Vec.set(mo, po, Vec.get(mo, po) + Vec.get(mi, pi));
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < is[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}

package io.colo4j.ops.kernel.cpu;

import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Dropout drawn from each element's global index (so a shard draws the serial model's bits for its
 * elements), and the fused bias + dropout + residual. The mask is never stored: backward redraws it.
 */
final class DropoutKernels {
    private DropoutKernels() {}

    /** out = in * mask (in and out contiguous, of index's element count). */
    static void dropout(DropoutBits bits, GlobalIndex index, Tensor in, Tensor out) {
        MemorySegment mi = in.segment();
        MemorySegment mo = out.segment();
        long oi = in.offset();
        long oo = out.offset();
        overRuns(index, checkedNumel("dropout", index, in, out), (e, g) -> Vec.set(mo, oo + e, Vec.get(mi, oi + e) * bits.scale(g)));
    }

    /** out = residual + (x + bias[e % C]) * mask; bias [C] (null: none), the rest contiguous and alike. */
    static void biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, DropoutBits bits, GlobalIndex index, Tensor out) {
        int n = checkedNumel("bias_dropout_add", index, x, out);
        if (residual.numel() != n) {
            throw new IllegalArgumentException("bias_dropout_add: residual has " + residual.numel() + " elements, x " + n);
        }
        MemorySegment mx = x.segment();
        MemorySegment mr = residual.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long or = residual.offset();
        long oo = out.offset();
        if (bias == null) {
            overRuns(index, n, (e, g) -> Vec.set(mo, oo + e, Vec.get(mr, or + e) + Vec.get(mx, ox + e) * bits.scale(g)));
            return;
        }
        MemorySegment mb = bias.segment();
        long ob = bias.offset();
        int c = Math.toIntExact(bias.numel());
        overRuns(index, n, (e, g) -> Vec.set(mo, oo + e,
                Vec.get(mr, or + e) + (Vec.get(mx, ox + e) + Vec.get(mb, ob + e % c)) * bits.scale(g)));
    }

    private interface ElementBody {
        /** Local element e, at global index g. */
        void apply(long e, long g);
    }

    /** Every local element with its global index, in parallel over element ranges. */
    private static void overRuns(GlobalIndex index, int n, ElementBody body) {
        int runLength = index.runLength();
        CpuThreads.parallelFor(n, 1 << 14, (from, to) -> {
            int run = from / runLength;
            int within = from % runLength;
            long g = index.start(run) + within;
            for (int e = from; e < to; e++) {
                body.apply(e, g++);
                if (++within == runLength && e + 1 < to) {
                    within = 0;
                    g = index.start(++run);
                }
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

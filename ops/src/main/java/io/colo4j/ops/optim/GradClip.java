package io.colo4j.ops.optim;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collection;
import java.util.function.DoubleUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (L2, coefficient
 * max_norm / (norm + 1e-6), applied only when below 1).
 *
 * <p>The norm is the square root of a sum of squares that passes through a {@code reduce} function
 * before the root: identity for a serial model; a tensor-parallel caller passes an all-reduce (sum)
 * over its ranks and counts each replicated parameter on one rank only (see
 * {@link #clip(Collection, Collection, double, DoubleUnaryOperator)}).
 */
public final class GradClip {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int BLOCK = 1 << 12;
    private static final FloatVector ONE = FloatVector.broadcast(S, 1f);
    /** Floats per parallel task of {@link #scale}. */
    private static final int SCALE_BLOCK = 1 << 16;

    private GradClip() {}

    /**
     * Sum of squares of a tensor's elements: float partial sums per block of 4096, added in double in
     * block order, so the result does not depend on how many threads computed the blocks.
     */
    public static double sumOfSquares(Tensor t) {
        Tensor c = t.isContiguous() ? t : t.copy();
        MemorySegment seg = c.segment();
        long base = c.offset() * Float.BYTES;
        long n = c.numel();
        int blocks = (int) ((n + BLOCK - 1) / BLOCK);
        double[] partial = new double[blocks];
        CpuThreads.parallelFor(blocks, 16, (from, to) -> {
            for (int blk = from; blk < to; blk++) {
                long start = (long) blk * BLOCK;
                partial[blk] = blockSumOfSquares(seg, base + start * Float.BYTES, (int) Math.min(BLOCK, n - start));
            }
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    /**
     * One block's sum of squares: lane-wise float sums, their lanes added in double in lane order, then the tail. Its
     * own method, called per block: the vector loop inside a task's loop over blocks was compiled on-stack (a task
     * runs once per tensor, too few calls for a normal compile), where the carried sum entered as an object and was
     * boxed on every vector, ~27 MB of heap per GPT-2 small step.
     */
    private static double blockSumOfSquares(MemorySegment seg, long at, int len) {
        int bound = S.loopBound(len);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector x = FloatVector.fromMemorySegment(S, seg, at + (long) i * Float.BYTES, ORDER);
            acc = x.fma(x, acc);
        }
        acc = ONE.mul(acc); // an exact type for the lane reads (io.colo4j.ops.kernel.cpu.Vec.ONE's note)
        double block = 0;
        for (int lane = 0; lane < S.length(); lane++) {
            block += acc.lane(lane);
        }
        for (; i < len; i++) {
            float x = seg.get(ValueLayout.JAVA_FLOAT, at + (long) i * Float.BYTES);
            block += (double) x * x;
        }
        return block;
    }

    /**
     * g *= factor on every core (the tensor module's own scaleInPlace is one loop on one thread); elementwise, so the
     * bits are the same however the loop is split.
     */
    public static void scale(Tensor g, float factor) {
        if (!g.isContiguous()) {
            g.scaleInPlace(factor);
            return;
        }
        MemorySegment seg = g.segment();
        long base = g.offset() * Float.BYTES;
        long n = g.numel();
        int blocks = (int) ((n + SCALE_BLOCK - 1) / SCALE_BLOCK);
        CpuThreads.parallelFor(blocks, 1, (from, to) -> {
            long start = (long) from * SCALE_BLOCK;
            long end = Math.min(n, (long) to * SCALE_BLOCK);
            long i = start;
            for (long bound = start + S.loopBound(end - start); i < bound; i += S.length()) {
                long at = base + i * Float.BYTES;
                FloatVector.fromMemorySegment(S, seg, at, ORDER).mul(factor).intoMemorySegment(seg, at, ORDER);
            }
            for (; i < end; i++) {
                long at = base + i * Float.BYTES;
                seg.set(ValueLayout.JAVA_FLOAT, at, seg.get(ValueLayout.JAVA_FLOAT, at) * factor);
            }
        });
    }

    /** The local sum of squares of the gradients of {@code params} (those without a gradient count 0). */
    public static double gradSumOfSquares(Collection<? extends Tensor> params) {
        double sum = 0;
        for (Tensor p : params) {
            if (p.grad() != null) {
                sum += sumOfSquares(p.grad());
            }
        }
        return sum;
    }

    /** sqrt(reduce(local sum of squares of the gradients)). */
    public static double globalNorm(Collection<? extends Tensor> params, DoubleUnaryOperator reduce) {
        return Math.sqrt(reduce.applyAsDouble(gradSumOfSquares(params)));
    }

    /** Serial clipping: returns the norm before clipping. */
    public static double clip(Collection<? extends Tensor> params, double maxNorm) {
        return clip(params, params, maxNorm, DoubleUnaryOperator.identity());
    }

    public static double clip(Collection<? extends Tensor> params, double maxNorm, DoubleUnaryOperator reduce) {
        return clip(params, params, maxNorm, reduce);
    }

    /**
     * Computes the norm over {@code counted} (reduced with {@code reduce}) and scales the gradients of
     * all of {@code params} by max_norm / (norm + 1e-6) when that is below 1. Returns the norm before
     * clipping; a non-finite norm leaves the gradients as they are (the caller decides what to do).
     * {@code maxNorm <= 0} only measures.
     */
    public static double clip(Collection<? extends Tensor> counted, Collection<? extends Tensor> params, double maxNorm,
                              DoubleUnaryOperator reduce) {
        double norm = globalNorm(counted, reduce);
        if (maxNorm > 0 && Double.isFinite(norm)) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1.0) {
                try (GradMode.Guard ignored = GradMode.disabled()) {
                    for (Tensor p : params) {
                        if (p.grad() != null) {
                            scale(p.grad(), (float) coef);
                        }
                    }
                }
            }
        }
        return norm;
    }
}

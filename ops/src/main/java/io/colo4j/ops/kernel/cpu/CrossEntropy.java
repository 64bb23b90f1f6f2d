package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.F;
import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/** Softmax cross-entropy per row, never materialising the probabilities in forward. */
final class CrossEntropy {
    private CrossEntropy() {}

    /** Rows per pass-by-pass group in forward: 128 KB of logits, which the exp pass then reads from L2. */
    private static final int GROUP_FLOATS = 1 << 15;

    /**
     * Each row's log-sum-exp and loss, a group of rows pass by pass (maxes, then exps; both passes only load, so C2
     * keeps the segment checks out of their loops). The lambda calls the two passes itself (no row method between): C2
     * counts inline depth from the method it compiles, and with one more level the Vector API's own deep call chains
     * inside exp passed its limit and boxed a vector per iteration (~6 bytes per logit). Losses and log-sum-exps are
     * contiguous [rows].
     */
    static void forward(Tensor logits, IntTensor targets, int ignoreIndex, int valid, Tensor losses, Tensor logSumExp) {
        int v = logits.size(-1);
        int rows = targets.numel();
        MemorySegment ml = logits.segment();
        long ol = logits.offset();
        MemorySegment mLoss = losses.segment();
        long oLoss = losses.offset();
        MemorySegment mLse = logSumExp.segment();
        long oLse = logSumExp.offset();
        int group = Math.max(1, GROUP_FLOATS / Math.max(v, 1));
        CpuThreads.parallelFor(rows, Vec.rowGrain(v), (from, to) -> {
            for (int g0 = from; g0 < to; g0 += group) {
                int g1 = Math.min(to, g0 + group);
                for (int r = g0; r < g1; r++) {
                    int target = targets.get(r);
                    if (target != ignoreIndex && (target < 0 || target >= valid)) {
                        throw new IllegalArgumentException("cross_entropy: target " + target + " at row " + r
                                + " is outside the " + valid + " classes");
                    }
                }
                // every row's max first, parked in its log-sum-exp slot: the max pass is the one that streams memory,
                // and rows of one pass are independent, so a group's loads overlap instead of waiting on each exp pass
                for (int r = g0; r < g1; r++) {
                    if (targets.get(r) != ignoreIndex) {
                        Vec.set(mLse, oLse + r, Softmax.max(ml, ol + (long) r * v, valid));
                    }
                }
                for (int r = g0; r < g1; r++) {
                    int target = targets.get(r);
                    if (target == ignoreIndex) {
                        Vec.set(mLoss, oLoss + r, 0f);
                        Vec.set(mLse, oLse + r, 0f);
                        continue;
                    }
                    long base = ol + (long) r * v;
                    float max = Vec.get(mLse, oLse + r);
                    // x * 1 - max = x - max
                    float lse = max + (float) Math.log(Softmax.expAndSum(ml, base, null, 0, valid, 1f, max));
                    Vec.set(mLse, oLse + r, lse);
                    Vec.set(mLoss, oLoss + r, lse - Vec.get(ml, base + target));
                }
            }
        });
    }

    static void backward(Tensor logits, IntTensor targets, int ignoreIndex, int valid, Tensor logSumExp,
                         float rowScale, Tensor gradLogits) {
        int v = logits.size(-1);
        int rows = targets.numel();
        MemorySegment ml = logits.segment();
        MemorySegment mg = gradLogits.segment();
        long ol = logits.offset();
        long og = gradLogits.offset();
        MemorySegment mLse = logSumExp.segment();
        long oLse = logSumExp.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(v), (from, to) -> {
            for (int r = from; r < to; r++) {
                int target = targets.get(r);
                backwardRow(ml, ol + (long) r * v, mg, og + (long) r * v, v, valid, target, ignoreIndex,
                        target == ignoreIndex ? 0f : Vec.get(mLse, oLse + r), rowScale);
            }
        });
    }

    /**
     * One row of {@link #backward}, its own method taking no vectors: the row is copied into this thread's array (at
     * copy speed), turned into its gradient there and copied out. Its exp is inlined once, unmasked: the array's spare
     * vector past the row takes the last vector's extra lanes, which are never copied out. With a second exp for a
     * tail, C2 ran out of budget and boxed vectors on the heap (6 bytes per logit, ~150 MB per step of GPT-2 small's
     * [512, 50257] logits, paid for in garbage collection and page faults).
     */
    private static void backwardRow(MemorySegment ml, long lb, MemorySegment mg, long gb, int v, int valid, int target,
                                    int ignoreIndex, float lse, float rowScale) {
        if (target == ignoreIndex) {
            mg.asSlice(gb * Float.BYTES, (long) v * Float.BYTES).fill((byte) 0);
            return;
        }
        float[] a = RowArrays.first(valid);
        MemorySegment.copy(ml, F, lb * Float.BYTES, a, 0, valid);
        for (int i = 0; i < valid; i += L) {
            VecMath.expShifted(FloatVector.fromArray(S, a, i).sub(lse)).mul(rowScale).intoArray(a, i);
        }
        if (target >= 0 && target < valid) {
            a[target] -= rowScale;
        }
        MemorySegment.copy(a, 0, mg, F, gb * Float.BYTES, valid);
        if (valid < v) {
            mg.asSlice((gb + valid) * Float.BYTES, (long) (v - valid) * Float.BYTES).fill((byte) 0);
        }
    }
}

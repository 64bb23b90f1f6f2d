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

    /**
     * Each row's log-sum-exp and loss. A row's exps run in one loop beside the next row's max, so the max's reads from
     * memory overlap the exps' arithmetic (the loop only loads, so C2 keeps the segment checks out of it). The lambda
     * calls the passes itself (no row method between): C2 counts inline depth from the method it compiles, and with
     * one more level the Vector API's own deep call chains inside exp passed its limit and boxed a vector per iteration
     * (~6 bytes per logit). Losses and log-sum-exps are contiguous [rows].
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
        CpuThreads.parallelFor(rows, Vec.rowGrain(v), (from, to) -> {
            for (int r = from; r < to; r++) {
                int target = targets.get(r);
                if (target != ignoreIndex && (target < 0 || target >= valid)) {
                    throw new IllegalArgumentException("cross_entropy: target " + target + " at row " + r
                            + " is outside the " + valid + " classes");
                }
            }
            if (from >= to) {
                return;
            }
            float[] nextMax = RowArrays.third(1);
            float max = Softmax.max(ml, ol + (long) from * v, valid);
            for (int r = from; r < to; r++) {
                int target = targets.get(r);
                long base = ol + (long) r * v;
                boolean last = r + 1 == to;
                if (target == ignoreIndex) {
                    Vec.set(mLoss, oLoss + r, 0f);
                    Vec.set(mLse, oLse + r, 0f);
                    max = last ? 0f : Softmax.max(ml, base + v, valid);
                    continue;
                }
                // x * 1 - max = x - max; the last row takes its own max again (from cache), keeping one inlined exp
                float sum = Softmax.expAndSumBeside(ml, base, valid, 1f, max, last ? base : base + v, nextMax);
                float lse = max + (float) Math.log(sum);
                Vec.set(mLse, oLse + r, lse);
                Vec.set(mLoss, oLoss + r, lse - Vec.get(ml, base + target));
                max = nextMax[0];
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

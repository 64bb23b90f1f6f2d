package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** Softmax cross-entropy per row, never materialising the probabilities in forward. */
final class CrossEntropy {
    private CrossEntropy() {}

    static void forward(Tensor logits, IntTensor targets, int ignoreIndex, int valid, Tensor losses, Tensor logSumExp) {
        int v = logits.size(-1);
        int rows = targets.numel();
        MemorySegment ml = logits.segment();
        long ol = logits.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(v), (from, to) -> {
            for (int r = from; r < to; r++) {
                int target = targets.get(r);
                if (target == ignoreIndex) {
                    losses.set(0f, r);
                    logSumExp.set(0f, r);
                    continue;
                }
                if (target < 0 || target >= valid) {
                    throw new IllegalArgumentException("cross_entropy: target " + target + " at row " + r
                            + " is outside the " + valid + " classes");
                }
                long base = ol + (long) r * v;
                float lse = logSumExp(ml, base, valid);
                logSumExp.set(lse, r);
                losses.set(lse - Vec.get(ml, base + target), r);
            }
        });
    }

    static float logSumExp(MemorySegment m, long base, int n) {
        int bound = S.loopBound(n);
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += L) {
            vmax = vmax.max(Vec.load(m, base + i));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, Vec.get(m, base + i));
        }
        // the softmax's masked exp body (once inlined: a second exp for the tail would box), x * 1 - max = x - max
        float sum = Softmax.expAndSum(m, base, null, 0, n, 1f, max);
        return max + (float) Math.log(sum);
    }

    static void backward(Tensor logits, IntTensor targets, int ignoreIndex, int valid, Tensor logSumExp,
                         float rowScale, Tensor gradLogits) {
        int v = logits.size(-1);
        int rows = targets.numel();
        MemorySegment ml = logits.segment();
        MemorySegment mg = gradLogits.segment();
        long ol = logits.offset();
        long og = gradLogits.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(v), (from, to) -> {
            for (int r = from; r < to; r++) {
                int target = targets.get(r);
                backwardRow(ml, ol + (long) r * v, mg, og + (long) r * v, v, valid, target, ignoreIndex,
                        target == ignoreIndex ? 0f : logSumExp.get(r), rowScale);
            }
        });
    }

    /**
     * One row of {@link #backward}, its own method taking no vectors. Its exp is inlined once: with a second copy for
     * the scalar tail C2 ran out of budget and boxed vectors on the heap (6 bytes per logit, ~150 MB per step of
     * GPT-2 small's [512, 50257] logits, paid for in garbage collection and page faults).
     */
    private static void backwardRow(MemorySegment ml, long lb, MemorySegment mg, long gb, int v, int valid, int target,
                                    int ignoreIndex, float lse, float rowScale) {
        if (target == ignoreIndex) {
            mg.asSlice(gb * Float.BYTES, (long) v * Float.BYTES).fill((byte) 0);
            return;
        }
        for (int i = 0; i < valid; i += L) { // one masked body for the tail too: a second inlined exp would box
            VectorMask<Float> mask = S.indexInRange(i, valid);
            VecMath.exp(FloatVector.fromMemorySegment(S, ml, (lb + i) * Float.BYTES, Vec.ORDER, mask).sub(lse)).mul(rowScale)
                    .intoMemorySegment(mg, (gb + i) * Float.BYTES, Vec.ORDER, mask);
        }
        for (int i = valid; i < v; i++) {
            Vec.set(mg, gb + i, 0f);
        }
        if (target >= 0 && target < valid) {
            Vec.set(mg, gb + target, Vec.get(mg, gb + target) - rowScale);
        }
    }
}

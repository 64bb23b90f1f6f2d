package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
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
        FloatVector vsum = FloatVector.zero(S);
        i = 0;
        for (; i < bound; i += L) {
            vsum = vsum.add(VecMath.exp(Vec.load(m, base + i).sub(max)));
        }
        float sum = VecMath.sum(vsum);
        for (; i < n; i++) {
            sum += VecMath.exp(Vec.get(m, base + i) - max);
        }
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
        int bound = S.loopBound(valid);
        CpuThreads.parallelFor(rows, Vec.rowGrain(v), (from, to) -> {
            for (int r = from; r < to; r++) {
                long lb = ol + (long) r * v;
                long gb = og + (long) r * v;
                int target = targets.get(r);
                if (target == ignoreIndex) {
                    for (int i = 0; i < v; i++) {
                        Vec.set(mg, gb + i, 0f);
                    }
                    continue;
                }
                float lse = logSumExp.get(r);
                int i = 0;
                for (; i < bound; i += L) {
                    Vec.store(VecMath.exp(Vec.load(ml, lb + i).sub(lse)).mul(rowScale), mg, gb + i);
                }
                for (; i < valid; i++) {
                    Vec.set(mg, gb + i, VecMath.exp(Vec.get(ml, lb + i) - lse) * rowScale);
                }
                for (; i < v; i++) {
                    Vec.set(mg, gb + i, 0f);
                }
                if (target >= 0 && target < valid) {
                    Vec.set(mg, gb + target, Vec.get(mg, gb + target) - rowScale);
                }
            }
        });
    }
}

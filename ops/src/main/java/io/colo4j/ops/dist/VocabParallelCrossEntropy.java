package io.colo4j.ops.dist;

import io.colo4j.ops.functional.Losses;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.comm.Communicator;

/**
 * Cross-entropy over logits split by vocabulary across the tp group (Megatron's vocab-parallel loss):
 * each rank reduces its slice to a per-row log-sum-exp and target logit, one all-gather and one
 * all-reduce of per-row values combine them, and the gradient is computed locally. The [rows, vocab]
 * logits are never gathered.
 */
final class VocabParallelCrossEntropy {
    /** Marks a target that another rank's slice holds: no one-hot term here. */
    private static final int ELSEWHERE = Integer.MIN_VALUE;

    private VocabParallelCrossEntropy() {}

    /** {@code consume}: the backward may write the gradient over the local logits ({@code Losses.crossEntropyConsuming}). */
    static Tensor apply(Tensor localLogits, IntTensor targets, int ignoreIndex, int validClasses, boolean consume,
                        DistContext context) {
        int vLocal = localLogits.size(-1);
        int rows = Math.toIntExact(localLogits.numel() / Math.max(vLocal, 1));
        if (rows != targets.numel()) {
            throw ShapeException.of("cross_entropy", rows + " rows of logits but " + targets.numel() + " targets",
                    localLogits.shape(), targets.shape());
        }
        Communicator tp = context.tp();
        int start = tp.rank() * vLocal;
        int localValid = Math.max(0, Math.min(vLocal, validClasses - start));
        Tensor flat = (localLogits.isContiguous() ? localLogits.detach() : localLogits.detach().contiguous()).view(rows, vLocal);

        int[] forwardTargets = new int[rows];
        int[] backwardTargets = new int[rows];
        Tensor targetLogit = Tensor.zeros(rows);
        int counted = 0;
        for (int r = 0; r < rows; r++) {
            int t = targets.get(r);
            if (t == ignoreIndex) {
                forwardTargets[r] = ignoreIndex;
                backwardTargets[r] = ignoreIndex;
                continue;
            }
            if (t < 0 || t >= validClasses) {
                throw new IllegalArgumentException("cross_entropy: target " + t + " at row " + r
                        + " is outside the " + validClasses + " classes");
            }
            counted++;
            boolean mine = t >= start && t < start + localValid;
            forwardTargets[r] = mine ? t - start : 0;
            backwardTargets[r] = mine ? t - start : ELSEWHERE;
            if (mine) {
                targetLogit.set(flat.get(r, t - start), r);
            }
        }
        Tensor localLse = Tensor.full(Float.NEGATIVE_INFINITY, rows);
        if (localValid > 0) {
            Tensor unusedLoss = Tensor.empty(rows);
            Backends.current().crossEntropy(flat, IntTensor.of(forwardTargets, rows), ignoreIndex, localValid, unusedLoss, localLse);
        }
        Tensor all = tp.allGather(localLse.view(1, rows), 0);
        long rowBytes = (long) rows * Float.BYTES;
        context.traceCollective(CollectiveKind.ALL_GATHER,
                CollectiveKind.ALL_GATHER.volume(tp.size(), tp.size() * rowBytes, rowBytes).sendBytesPerRank(), CommTrace.Phase.FORWARD);
        tp.allReduce(targetLogit);
        context.traceCollective(CollectiveKind.ALL_REDUCE,
                CollectiveKind.ALL_REDUCE.volume(tp.size(), rowBytes, rowBytes).sendBytesPerRank(), CommTrace.Phase.FORWARD);

        Tensor lse = Tensor.zeros(rows);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            if (forwardTargets[r] == ignoreIndex) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < tp.size(); k++) {
                max = Math.max(max, all.get(k, r));
            }
            double sum = 0;
            for (int k = 0; k < tp.size(); k++) {
                sum += Math.exp(all.get(k, r) - max);
            }
            float rowLse = (float) (max + Math.log(sum));
            lse.set(rowLse, r);
            total += rowLse - targetLogit.get(r);
        }
        int count = Math.max(counted, 1);
        Tensor loss = Tensor.scalar((float) (total / count));
        int[] shape = localLogits.shape();
        IntTensor back = IntTensor.of(backwardTargets, rows);
        return Autograd.record("vocab_parallel_cross_entropy", loss, g -> {
            Tensor gl = Losses.logitsGradient(flat, consume, back, ignoreIndex, localValid, lse, g.item() / count);
            return new Tensor[] {gl.view(shape)};
        }, localLogits);
    }
}

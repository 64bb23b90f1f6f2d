package io.colo4j.ops.dist;

import static io.colo4j.ops.dist.Sbp.P;
import static io.colo4j.ops.dist.Sbp.R;

import io.colo4j.ops.functional.Embeddings;
import io.colo4j.ops.functional.Losses;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.tensor.IntTensor;
import java.util.Arrays;
import java.util.List;

/**
 * The ops at the two ends of a language model, whose sharded forms compute something other than the
 * serial op on a shard: the embedding lookup and the cross-entropy over a split vocabulary.
 */
final class VocabParallelStrategies {
    private VocabParallelStrategies() {}

    /**
     * Embedding: W:B -> B; W:S(0) vocab parallel: each rank looks up the ids it owns, zeros elsewhere,
     * -> P, all-reduced to B (reduce-scattered to S(tokens) under sequence parallelism); W:S(1) -> S(-1) (gathered to B when the ComputeSpec asks).
     */
    static List<Strategy> embedding(OpCall call) {
        DistSpec w = call.spec(0);
        IntTensor ids = (IntTensor) call.args()[0];
        int[] outShape = Arrays.copyOf(ids.shape(), ids.shape().length + 1);
        outShape[outShape.length - 1] = call.shape(0)[1];
        if (Sbp.isReplicate(w)) {
            return List.of(Strategy.of(1).output(R));
        }
        if (Sbp.isSplitOn(w, 0) && ((ShardSpec) w).stride(0) == 1) {
            int localRows = call.shape(0)[0] / ((ShardSpec) w).numPartitions(0);
            int rowOffset = call.context().tpRank() * localRows;
            return List.of(Strategy.of(1).local(in -> Embeddings.shard(ids, in[0], rowOffset)).then(SequenceParallel.replicatedOutput(call, 0, outShape), outShape).output(P));
        }
        if (Sbp.isSplitOn(w, 1)) {
            Strategy.Builder s = Strategy.of(1);
            if (call.outputReplicate(0)) {
                s.then(R, outShape);
            }
            return List.of(s.output(Sbp.splitLike(w, outShape.length - 1)));
        }
        return List.of();
    }

    /**
     * Cross-entropy: logits B -> local; logits S(-1) (vocab parallel) -> the loss is assembled from
     * per-row reductions across ranks, the logits are never gathered. Padding columns never count.
     */
    static List<Strategy> crossEntropy(OpCall call) {
        DistSpec logits = call.spec(0);
        IntTensor targets = (IntTensor) call.args()[0];
        int ignoreIndex = (Integer) call.args()[1];
        boolean consume = (Boolean) call.args()[2];
        int last = call.rank(0) - 1;
        int validClasses = call.validShape(0)[last];
        if (Sbp.isReplicate(logits)) {
            return List.of(Strategy.of(1).local(in -> Losses.crossEntropy(in[0], targets, ignoreIndex, validClasses, consume))
                    .output(R));
        }
        if (Sbp.isSplitOn(logits, last) && ((ShardSpec) logits).stride(0) == 1) {
            return List.of(Strategy.of(1)
                    .local(in -> VocabParallelCrossEntropy.apply(in[0], targets, ignoreIndex, validClasses, consume, call.context()))
                    .output(R));
        }
        return List.of();
    }
}

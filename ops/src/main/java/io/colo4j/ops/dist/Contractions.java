package io.colo4j.ops.dist;

import static io.colo4j.ops.dist.Sbp.P;
import static io.colo4j.ops.dist.Sbp.R;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.nn.WeightLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One einsum-style generator for every contraction {@code out[rows.., n] = sum_k A[rows.., k] B[.., k, n] (+ bias[n])}:
 * linear (B = weight [out, in]), addmm / Conv1D (B = weight [in, out]), matmul and bmm (B [batch.., k, n]
 * or a shared [k, n]). Its SBP signatures, in listing order:
 * <pre>
 *   B x B -> B                       (listed when B is already replicated)
 *   S(row) x B -> S(row)             B's gradient partial; a batch dim both carry: S(batch) x S(batch) -> S(batch)
 *   B x S(n) -> S(n)                 column parallel: A's gradient partial, bias S(n)
 *   S(k) x S(k) -> P                 row parallel, no bias (DistOps adds it after the reduction)
 *   P x B -> P,  B x P -> P          linear in each operand, no bias
 * </pre>
 * For linear and addmm the weight's {@link ComputeSpec#outputReplicate()} turns an S(n) or P output into B;
 * under {@link ComputeSpec#sequenceParallel()} a P output becomes S(tokens) instead ({@link SequenceParallel}).
 */
final class Contractions {
    private Contractions() {}

    /** Which dims play which part: A's k is its last; B's k and n, and whether B carries A's batch dims. */
    private record Dims(int bK, int bN, boolean bBatched, boolean weight) {}

    static StrategyGenerator linear(WeightLayout layout) {
        return call -> candidates(call, new Dims(layout.inDim(), layout.outDim(), false, true));
    }

    static List<Strategy> matmul(OpCall call) {
        int ra = call.rank(0);
        int rb = call.rank(1);
        return candidates(call, new Dims(rb - 2, rb - 1, rb == ra && ra > 2, false));
    }

    private static List<Strategy> candidates(OpCall call, Dims dims) {
        DistSpec a = call.spec(0);
        DistSpec b = call.spec(1);
        int inputs = call.size();
        boolean bias = call.present(2);
        int outRank = call.rank(0);
        int last = outRank - 1;
        int tp = call.tp();
        int[] outShape = call.shape(0).clone();
        outShape[last] = call.shape(1)[dims.bN()];
        boolean replicateOut = dims.weight() && call.outputReplicate(1);
        List<Strategy> out = new ArrayList<>();
        if (Sbp.isReplicate(b)) {
            Strategy.Builder s = Strategy.of(inputs).require(0, R).require(1, R);
            if (bias) {
                s.require(2, R);
            }
            out.add(s.output(R));
        }
        for (int d = 0; d < last; d++) {
            boolean batch = dims.bBatched() && d < last - 1;
            DistSpec like = Sbp.isSplitOn(a, d) ? a : batch && Sbp.isSplitOn(b, d) ? b : null;
            DistSpec split = Sbp.splitLikeOr(like, d, tp);
            Strategy.Builder s = Strategy.of(inputs).require(0, split);
            if (batch) {
                s.require(1, split);
            } else {
                s.require(1, R).partialGrad(1);
            }
            if (bias) {
                s.require(2, R).partialGrad(2);
            }
            out.add(s.output(split));
        }
        DistSpec nSplit = Sbp.splitLikeOr(Sbp.isSplitOn(b, dims.bN()) ? b : null, dims.bN(), tp);
        Strategy.Builder column = Strategy.of(inputs).require(0, R).partialGrad(0).require(1, nSplit);
        if (bias) {
            column.require(2, Sbp.splitLike(nSplit, 0));
        }
        int[] valid = call.validShape(0).clone();
        valid[last] = call.validShape(1)[dims.bN()];
        column.validOutShape(valid);
        if (replicateOut) {
            column.then(R, outShape);
        }
        out.add(column.output(Sbp.splitLike(nSplit, last)));
        if (!bias) {
            DistSpec kLike = Sbp.isSplitOn(b, dims.bK()) ? b : Sbp.isSplitOn(a, last) ? a : null;
            Strategy.Builder contract = Strategy.of(inputs)
                    .require(0, Sbp.splitLikeOr(kLike, last, tp)).require(1, Sbp.splitLikeOr(kLike, dims.bK(), tp));
            if (replicateOut) {
                contract.then(SequenceParallel.replicatedOutput(call, 1, outShape), outShape);
            }
            out.add(contract.output(P));
            out.add(Strategy.of(inputs).require(0, P).require(1, R).partialGrad(1).output(P));
            out.add(Strategy.of(inputs).require(0, R).partialGrad(0).require(1, P).output(P));
        }
        return out;
    }
}

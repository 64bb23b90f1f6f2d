package io.colo4j.ops.dist;

import io.colo4j.ops.functional.Embeddings;
import io.colo4j.tensor.nn.WeightLayout;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.colo.ColoParameter;

/**
 * The sharding rules of every op family, in OneFlow SBP terms: R = replicated (broadcast),
 * S(d) = split along d, P = partial sum. Each returns null when its signatures do not cover the
 * inputs, and the dispatcher falls back to replicate.
 */
final class Rules {
    private static final DistSpec R = ReplicaSpec.INSTANCE;
    private static final DistSpec P = DistSpec.partialSum();

    private Rules() {}

    /**
     * Linear with a weight in either layout. W:R -> serial. W:S(out) column parallel: x:R (its gradient
     * is partial: all-reduced in backward) -> y:S(-1). W:S(in) row parallel: x:S(-1) -> y:P (the caller
     * adds the bias after the reduction). ComputeSpec.outputReplicate gathers or reduces y to R.
     */
    static ShardingRule linear(WeightLayout layout) {
        return call -> {
            Placement x = call.placement(0);
            Placement w = call.placement(1);
            boolean hasBias = call.size() > 2 && call.input(2) != null;
            int last = x.rank() - 1;
            boolean replicateOut = outputReplicate(call, 1);
            Strategy.Builder s = Strategy.of(call.size());
            if (w.isReplicate()) {
                if (x.isShard() && x.dim() != last) {
                    s.partialGrad(1);
                    if (hasBias) {
                        s.require(2, R).partialGrad(2);
                    }
                    return s.output(x.spec());
                }
                s.require(0, R);
                if (hasBias) {
                    s.require(2, R);
                }
                return s.output(R);
            }
            if (w.isShardOn(layout.outDim())) {
                s.require(0, R).partialGrad(0);
                if (hasBias) {
                    s.require(2, w.shardSpecOn(0));
                }
                int[] valid = x.validShape().clone();
                valid[last] = w.validShape()[layout.outDim()];
                s.validOutShape(valid);
                if (replicateOut) {
                    s.then(R);
                }
                return s.output(w.shardSpecOn(last));
            }
            if (w.isShardOn(layout.inDim()) && !hasBias) {
                s.require(0, w.shardSpecOn(last));
                if (replicateOut) {
                    s.then(R);
                }
                return s.output(P);
            }
            return null;
        };
    }

    /** The weight's ComputeSpec decides; without one the output is replicated, as in ColossalAI. */
    private static boolean outputReplicate(OpCall call, int weightInput) {
        if (call.input(weightInput) instanceof ColoParameter p) {
            ComputeSpec compute = p.computeSpec();
            return compute == null || compute.outputReplicate();
        }
        return true;
    }

    /** a[..., m, k] @ b[..., k, n]: R x S(n) -> S(n); S(k) x S(k) -> P; S(m) x R -> S(m); S(batch) x S(batch) -> S(batch). */
    static Strategy matmul(OpCall call) {
        Placement a = call.placement(0);
        Placement b = call.placement(1);
        int ra = a.rank();
        int rb = b.rank();
        int outRank = Math.max(ra, rb);
        Strategy.Builder s = Strategy.of(2);
        if (a.isReplicate() && b.isReplicate()) {
            return s.output(R);
        }
        if (a.isReplicate() && b.isShardOn(rb - 1)) {
            int[] valid = a.validShape().clone();
            valid[ra - 1] = b.validShape()[rb - 1];
            return s.partialGrad(0).validOutShape(ra == outRank ? valid : null).output(b.shardSpecOn(outRank - 1));
        }
        if (a.isShardOn(ra - 1) && b.isShardOn(rb - 2) && a.sameSplitAs(b)) {
            return s.output(P);
        }
        if (a.isShardOn(ra - 2) && b.isReplicate()) {
            return s.partialGrad(1).output(a.shardSpecOn(outRank - 2));
        }
        if (a.isShard() && a.dim() < ra - 2) {
            if (rb == 2 && b.isReplicate()) {
                return s.partialGrad(1).output(a.spec());
            }
            if (rb == ra && b.isShardOn(a.dim()) && a.sameSplitAs(b)) {
                return s.output(a.spec());
            }
        }
        if (a.isPartial() && b.isReplicate()) {
            return s.partialGrad(1).output(P);
        }
        if (a.isReplicate() && b.isPartial()) {
            return s.partialGrad(0).output(P);
        }
        return null;
    }

    /**
     * Embedding: W:R -> R; W:S(0) vocab parallel: each rank looks up the ids it owns, zeros elsewhere,
     * -> P, all-reduced to R; W:S(1) -> S(-1) (gathered to R when outputReplicate).
     */
    static Strategy embedding(OpCall call) {
        Placement w = call.placement(0);
        IntTensor ids = (IntTensor) call.args()[0];
        int outRank = ids.shape().length + 1;
        Strategy.Builder s = Strategy.of(1);
        if (w.isReplicate()) {
            return s.output(R);
        }
        if (w.isShardOn(0) && w.stride() == 1) {
            int localRows = w.globalShape()[0] / w.parts();
            int rowOffset = call.context().tpRank() * localRows;
            return s.local(in -> Embeddings.shard(ids, in[0], rowOffset)).then(R).output(P);
        }
        if (w.isShardOn(1)) {
            if (outputReplicate(call, 0)) {
                s.then(R);
            }
            return s.output(w.shardSpecOn(outRank - 1));
        }
        return null;
    }

    /**
     * LayerNorm / RMSNorm normalise the last dim, so they are local only when that dim is whole:
     * x:S(d != last) -> S(d), with the (replicated) affine weights' gradients partial.
     */
    static Strategy layerNorm(OpCall call) {
        Placement x = call.placement(0);
        Strategy.Builder s = Strategy.of(call.size());
        if (x.isReplicate()) {
            for (int i = 1; i < call.size(); i++) {
                s.require(i, R);
            }
            return s.output(R);
        }
        if (x.isShard() && x.dim() != x.rank() - 1) {
            for (int i = 1; i < call.size(); i++) {
                s.require(i, R).partialGrad(i);
            }
            return s.output(x.spec());
        }
        return null;
    }

    static Strategy softmax(OpCall call) {
        Placement x = call.placement(0);
        if (x.isReplicate()) {
            return Strategy.of(1).output(R);
        }
        if (x.isShard() && x.dim() != x.rank() - 1) {
            return Strategy.of(1).output(x.spec());
        }
        return null;
    }

    /** A causal mask ties the last two dims together, so neither may be split. */
    static Strategy causalSoftmax(OpCall call) {
        Placement x = call.placement(0);
        if (x.isShard() && x.dim() >= x.rank() - 2) {
            return null;
        }
        return softmax(call);
    }

    /**
     * Attention over [B, H, T, hd] is independent per batch row and per head: S(0) or S(1) on q, k and
     * v. A bias (mask, relative positions) that spans that dim is split the same way (a replicated one
     * by a local slice); one broadcast along it stays R and gets a partial gradient.
     */
    static Strategy attention(OpCall call) {
        Placement q = call.placement(0);
        Placement k = call.placement(1);
        Placement v = call.placement(2);
        Placement bias = call.placement(3);
        Strategy.Builder s = Strategy.of(4);
        if (q.isReplicate() && k.isReplicate() && v.isReplicate()) {
            if (bias != null && !bias.isReplicate()) {
                s.require(3, R);
            }
            return s.output(R);
        }
        if (q.isShard() && q.dim() <= 1 && k.isShardOn(q.dim()) && v.isShardOn(q.dim()) && q.sameSplitAs(k) && q.sameSplitAs(v)) {
            if (bias != null) {
                int d = q.dim() - (4 - bias.rank());
                if (d >= 0 && bias.globalShape()[d] != 1) {
                    s.require(3, q.shardSpecOn(d));
                } else if (bias.isReplicate()) {
                    s.partialGrad(3);
                } else {
                    return null;
                }
            }
            return s.output(q.spec());
        }
        return null;
    }

    /** Nonlinear pointwise ops: R -> R, S -> S; a partial sum must be reduced first. */
    static Strategy unary(OpCall call) {
        Placement x = call.placement(0);
        if (x.isPartial() || x.kind() == Placement.Kind.OTHER) {
            return null;
        }
        return Strategy.of(1).output(x.spec());
    }

    /** Linear pointwise ops (scaling) also keep partial sums partial. */
    static Strategy linearPointwise(OpCall call) {
        Placement x = call.placement(0);
        return x.kind() == Placement.Kind.OTHER ? null : Strategy.of(1).output(x.spec());
    }

    /** a + b, a - b: P + P -> P, P + R -> P (R kept on tp rank 0 only), else as elementwise. */
    static Strategy additive(OpCall call) {
        Placement a = call.placement(0);
        Placement b = call.placement(1);
        if (a.isPartial() && b.isPartial()) {
            return Strategy.of(2).output(P);
        }
        if (a.isPartial() && b.isReplicate()) {
            return Strategy.of(2).require(1, P).output(P);
        }
        if (a.isReplicate() && b.isPartial()) {
            return Strategy.of(2).require(0, P).output(P);
        }
        return elementwise(call);
    }

    /** a * b: P * R -> P (R's gradient is then partial), else as elementwise. */
    static Strategy multiplicative(OpCall call) {
        Placement a = call.placement(0);
        Placement b = call.placement(1);
        if (a.isPartial() && b.isReplicate()) {
            return Strategy.of(2).partialGrad(1).output(P);
        }
        if (a.isReplicate() && b.isPartial()) {
            return Strategy.of(2).partialGrad(0).output(P);
        }
        return elementwise(call);
    }

    static Strategy divide(OpCall call) {
        Placement a = call.placement(0);
        Placement b = call.placement(1);
        if (a.isPartial() && b.isReplicate()) {
            return Strategy.of(2).partialGrad(1).output(P);
        }
        return elementwise(call);
    }

    /**
     * Broadcasting elementwise: both R -> R. Otherwise the output is split like the first sharded input;
     * every input that spans that dim is brought to the same split (a replicated one by a local slice),
     * and an input broadcast along it stays R with a partial gradient (its gradient sums over the split).
     */
    static Strategy elementwise(OpCall call) {
        Placement a = call.placement(0);
        Placement b = call.placement(1);
        if (a.isReplicate() && b.isReplicate()) {
            return Strategy.of(2).output(R);
        }
        if (a.isPartial() || b.isPartial() || a.kind() == Placement.Kind.OTHER || b.kind() == Placement.Kind.OTHER) {
            return null;
        }
        int[] out = Shapes.broadcast(call.op(), a.globalShape(), b.globalShape());
        Placement ref = a.isShard() ? a : b;
        int o = ref.dim() + out.length - ref.rank();
        Strategy.Builder s = Strategy.of(2);
        Placement[] ins = {a, b};
        for (int i = 0; i < 2; i++) {
            Placement p = ins[i];
            int d = o - (out.length - p.rank());
            boolean spans = d >= 0 && p.globalShape()[d] != 1;
            if (spans) {
                s.require(i, ref.shardSpecOn(d));
            } else if (p.isReplicate()) {
                s.partialGrad(i);
            } else {
                return null;
            }
        }
        return s.output(ref.shardSpecOn(o));
    }

    /** A full sum: of R is R; of S or P is P on every rank, then all-reduced. */
    static Strategy sum(OpCall call) {
        Placement x = call.placement(0);
        if (x.isReplicate()) {
            return Strategy.of(1).output(R);
        }
        if (x.kind() == Placement.Kind.OTHER) {
            return null;
        }
        return Strategy.of(1).then(R).output(P);
    }

    /**
     * Cross-entropy: logits R -> local; logits S(-1) (vocab parallel) -> the loss is assembled from
     * per-row reductions across ranks, the logits are never gathered. Padding columns never count.
     */
    static Strategy crossEntropy(OpCall call) {
        Placement logits = call.placement(0);
        IntTensor targets = (IntTensor) call.args()[0];
        int ignoreIndex = (Integer) call.args()[1];
        int last = logits.rank() - 1;
        int validClasses = logits.validShape()[last];
        if (logits.isReplicate()) {
            return Strategy.of(1)
                    .local(in -> io.colo4j.ops.functional.Losses.crossEntropy(in[0], targets, ignoreIndex, validClasses))
                    .output(R);
        }
        if (logits.isShardOn(last) && logits.stride() == 1) {
            return Strategy.of(1)
                    .local(in -> VocabParallelCrossEntropy.apply(in[0], targets, ignoreIndex, validClasses, call.context()))
                    .output(R);
        }
        return null;
    }
}

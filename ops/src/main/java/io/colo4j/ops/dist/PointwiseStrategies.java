package io.colo4j.ops.dist;

import static io.colo4j.ops.dist.Sbp.P;
import static io.colo4j.ops.dist.Sbp.R;

import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.Shapes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Elementwise ops. Broadcasting binary ops: B x B -> B, or S(o) on the output for each dim o, every
 * input that spans o split the same way (a replicated one by a local slice) and one broadcast along it
 * replicated with a partial gradient; the split the inputs already have is listed first. Partial sums
 * pass through the ops linear in them: P + P -> P, P + B -> P (B kept on tp rank 0), P * B -> P, P / B -> P.
 */
final class PointwiseStrategies {
    private PointwiseStrategies() {}

    /** Nonlinear unary ops (activations, dropout): any layout but a partial sum stays as it is. */
    static List<Strategy> unary(OpCall call) {
        DistSpec x = call.spec(0);
        if (!Sbp.isPartial(x)) {
            return List.of(Strategy.of(1).output(x));
        }
        return splits(call, new int[] {call.rank(0)}, call.rank(0));
    }

    /** Ops linear in their input (scaling, repeat_interleave): a partial sum stays partial too. */
    static List<Strategy> linear(OpCall call) {
        DistSpec x = call.spec(0);
        return Sbp.isMultiDim(x) ? List.of() : List.of(Strategy.of(1).output(x));
    }

    static List<Strategy> add(OpCall call) {
        List<Strategy> out = elementwise(call);
        if (Sbp.isPartial(call.spec(0)) || Sbp.isPartial(call.spec(1))) {
            out.add(Strategy.of(2).require(0, P).require(1, P).output(P));
        }
        return out;
    }

    static List<Strategy> multiply(OpCall call) {
        List<Strategy> out = elementwise(call);
        out.add(Strategy.of(2).require(0, P).require(1, R).partialGrad(1).output(P));
        out.add(Strategy.of(2).require(0, R).partialGrad(0).require(1, P).output(P));
        return out;
    }

    static List<Strategy> divide(OpCall call) {
        List<Strategy> out = elementwise(call);
        out.add(Strategy.of(2).require(0, P).require(1, R).partialGrad(1).output(P));
        return out;
    }

    /** A full sum: of B is B; of S or P a partial sum on every rank, then all-reduced. */
    static List<Strategy> sum(OpCall call) {
        DistSpec x = call.spec(0);
        if (Sbp.isReplicate(x)) {
            return List.of(Strategy.of(1).output(R));
        }
        return Sbp.isMultiDim(x) ? List.of() : List.of(Strategy.of(1).then(R, new int[0]).output(P));
    }

    static List<Strategy> elementwise(OpCall call) {
        int[] out = Shapes.broadcast(call.op().label(), call.shape(0), call.shape(1));
        return splits(call, new int[] {call.rank(0), call.rank(1)}, out.length);
    }

    /** B (when every input already is) and then S(o) for each output dim o, the inputs' own splits first. */
    private static List<Strategy> splits(OpCall call, int[] ranks, int outRank) {
        int n = ranks.length;
        List<Strategy> out = new ArrayList<>();
        boolean allReplicated = true;
        Set<Integer> order = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            DistSpec s = call.spec(i);
            allReplicated &= Sbp.isReplicate(s);
            if (Sbp.isSplit(s)) {
                order.add(Sbp.splitDim(s) + outRank - ranks[i]);
            }
        }
        if (allReplicated) {
            out.add(Strategy.of(n).output(R));
        }
        for (int o = 0; o < outRank; o++) {
            order.add(o);
        }
        for (int o : order) {
            DistSpec like = null;
            for (int i = 0; i < n && like == null; i++) {
                if (Sbp.isSplitOn(call.spec(i), o - (outRank - ranks[i]))) {
                    like = call.spec(i);
                }
            }
            DistSpec split = Sbp.splitLikeOr(like, o, call.tp());
            Strategy.Builder s = Strategy.of(n);
            for (int i = 0; i < n; i++) {
                s.splitOrBroadcast(i, call.shape(i), o - (outRank - ranks[i]), split);
            }
            out.add(s.output(split));
        }
        return out;
    }
}

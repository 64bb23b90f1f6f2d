package io.colo4j.ops.dist;

import static io.colo4j.ops.dist.Sbp.R;

import io.colo4j.spec.DistSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Attention over q, k, v [B, H, T, hd] is independent per batch row and per head: B x B x B -> B, or
 * S(d) x S(d) x S(d) -> S(d) for d = 0 (batch) or 1 (heads). A bias (mask, relative positions) that
 * spans d is split the same way (a replicated one by a local slice); one broadcast along d is
 * replicated and gets a partial gradient.
 */
final class AttentionStrategies {
    private static final int Q = 0;
    private static final int BIAS = 3;

    private AttentionStrategies() {}

    static List<Strategy> candidates(OpCall call) {
        DistSpec q = call.spec(Q);
        DistSpec k = call.spec(1);
        DistSpec v = call.spec(2);
        boolean hasBias = call.present(BIAS);
        List<Strategy> out = new ArrayList<>();
        if (Sbp.isReplicate(q) && Sbp.isReplicate(k) && Sbp.isReplicate(v)) {
            Strategy.Builder s = Strategy.of(4);
            if (hasBias) {
                s.require(BIAS, R);
            }
            out.add(s.output(R));
        }
        for (int d = 0; d <= 1; d++) {
            DistSpec like = Sbp.isSplitOn(q, d) ? q : Sbp.isSplitOn(k, d) ? k : Sbp.isSplitOn(v, d) ? v : null;
            DistSpec split = Sbp.splitLikeOr(like, d, call.tp());
            Strategy.Builder s = Strategy.of(4).require(Q, split).require(1, split).require(2, split);
            if (hasBias) {
                s.splitOrBroadcast(BIAS, call.shape(BIAS), d - (4 - call.rank(BIAS)), split);
            }
            out.add(s.output(split));
        }
        return out;
    }
}

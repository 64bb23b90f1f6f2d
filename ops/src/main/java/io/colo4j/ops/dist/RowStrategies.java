package io.colo4j.ops.dist;

import static io.colo4j.ops.dist.Sbp.R;

import io.colo4j.spec.DistSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Ops that reduce along the last dim (layer_norm, rms_norm, softmax) are local only while that dim is
 * whole: B -> B, or S(d) -> S(d) for any other d, with the replicated affine weights' gradients partial.
 * A causal mask also ties the dim before the last. An input split on a dim the op needs whole, or a
 * partial sum, is moved to the cheapest split it allows.
 */
final class RowStrategies {
    private RowStrategies() {}

    /** x, then weights that apply along the reduced dim. */
    static List<Strategy> lastDim(OpCall call) {
        return rows(call, 1);
    }

    static List<Strategy> causalLastTwoDims(OpCall call) {
        return rows(call, 2);
    }

    private static List<Strategy> rows(OpCall call, int wholeDims) {
        DistSpec x = call.spec(0);
        int free = call.rank(0) - wholeDims;
        List<Strategy> out = new ArrayList<>();
        if (Sbp.isReplicate(x)) {
            Strategy.Builder s = Strategy.of(call.size());
            for (int i = 1; i < call.size(); i++) {
                s.require(i, R);
            }
            out.add(s.output(R));
        }
        for (int d = 0; d < free; d++) {
            DistSpec split = Sbp.splitLikeOr(Sbp.isSplitOn(x, d) ? x : null, d, call.tp());
            Strategy.Builder s = Strategy.of(call.size()).require(0, split);
            for (int i = 1; i < call.size(); i++) {
                s.require(i, R).partialGrad(i);
            }
            out.add(s.output(split));
        }
        return out;
    }
}

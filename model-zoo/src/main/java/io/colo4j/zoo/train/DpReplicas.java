package io.colo4j.zoo.train;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.DistContext;
import java.util.ArrayList;
import java.util.List;

/** Which data-parallel replicas saw a value go bad: asked only once it has, so a healthy step pays nothing. */
final class DpReplicas {
    private DpReplicas() {}

    /**
     * Where a non-finite dp-averaged loss came from: "on dp replica 1 of 2", or "" without data parallelism.
     * A collective over dp: every rank calls it, as every rank sees the same average.
     */
    static String nonFinite(DistContext dist, float localLoss) {
        int dp = dist.dp().size();
        if (dp == 1) {
            return "";
        }
        Tensor bad = Tensor.zeros(dp);
        bad.set(Float.isFinite(localLoss) ? 0f : 1f, dist.rank().dpRank());
        dist.dp().allReduce(bad);
        List<String> replicas = new ArrayList<>();
        for (int r = 0; r < dp; r++) {
            if (bad.get(r) != 0) {
                replicas.add(Integer.toString(r));
            }
        }
        if (replicas.size() == dp) {
            return "on every dp replica (" + dp + ")";
        }
        return (replicas.size() == 1 ? "on dp replica " : "on dp replicas ") + String.join(", ", replicas) + " of " + dp;
    }
}

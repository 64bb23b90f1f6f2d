package io.colo4j.zoo.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;

/** Causal scaled-dot-product attention over [B, H, T, hd], with HF's unfused path when attention dropout is on. */
public final class CausalAttention {
    private CausalAttention() {}

    /**
     * softmax(scale q k^T + causal mask) v; with {@code training} and {@code dropout > 0} the
     * probabilities are dropped out (mask seeded by {@code seed}) as HF does, through the unfused ops.
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, float scale, float dropout, boolean training, long seed) {
        if (!training || dropout == 0f) {
            return F.attention(q, k, v, null, true, scale);
        }
        int t = q.globalShape()[2];
        Tensor scores = F.scale(F.matmul(q, k.transpose(-2, -1)), scale);
        Tensor mask = Tensor.zeros(t, t);
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                mask.set(Float.NEGATIVE_INFINITY, i, j);
            }
        }
        Tensor probs = F.softmax(F.add(scores, mask), -1);
        return F.matmul(F.dropout(probs, dropout, true, seed), v);
    }
}

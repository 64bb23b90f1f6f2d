package io.colo4j.zoo.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;

/**
 * Causal scaled-dot-product attention over [B, H, T, hd], with HF's unfused path when attention dropout is on. Keys
 * and values may be longer than the queries ({@link KvCache}): the queries are then the last tokens, and each sees
 * every key up to its own position.
 */
public final class CausalAttention {
    private CausalAttention() {}

    /**
     * softmax(scale q k^T + causal mask) v; with {@code training} and {@code dropout > 0} the
     * probabilities are dropped out (mask seeded by {@code seed}) as HF does, through the unfused ops.
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, float scale, float dropout, boolean training, long seed) {
        return Recompute.attentionCore(in -> core(in[0], in[1], in[2], scale, dropout, training, seed), q, k, v);
    }

    private static Tensor core(Tensor q, Tensor k, Tensor v, float scale, float dropout, boolean training, long seed) {
        int t = q.globalShape()[2];
        int tk = k.globalShape()[2];
        int past = tk - t;
        boolean dropping = training && dropout > 0f;
        if (!dropping && past == 0) {
            return F.attention(q, k, v, null, true, scale);
        }
        if (!dropping && t == 1) {
            // the newest token sees every cached one: nothing to mask
            return F.attention(q, k, v, null, false, scale);
        }
        Tensor scores = F.scale(F.matmul(q, k.transpose(-2, -1)), scale);
        Tensor mask = Tensor.zeros(t, tk);
        for (int i = 0; i < t; i++) {
            for (int j = past + i + 1; j < tk; j++) {
                mask.set(Float.NEGATIVE_INFINITY, i, j);
            }
        }
        Tensor probs = F.softmax(F.add(scores, mask), -1);
        return F.matmul(dropping ? F.dropout(probs, dropout, true, seed) : probs, v);
    }
}

package io.colo4j.ops.kernel;

import io.colo4j.tensor.Tensor;

/**
 * Scaled dot-product attention as one fused kernel per (batch, head) tile, for backends that have one (found through
 * {@code Backends.current() instanceof AttentionKernels}; others compose matmul and softmax). The [B, H, Tq, Tk]
 * scores and probabilities never reach step memory: forward keeps each query row's softmax statistics, backward
 * recomputes the probabilities from them and from q and k, as flash attention does.
 *
 * <p>q is [B, H, Tq, hd], k [B, H, Tk, hd], v [B, H, Tk, hv], each with stride 1 in its last dim (any other strides,
 * so heads split out of a fused projection need no copy); causal needs Tq == Tk. Outputs are contiguous and written in
 * full. Results depend on the shapes only, never on the thread count.
 */
public interface AttentionKernels {
    /** out [B, H, Tq, hv] = softmax(scale q k^T, causal) v; stats [B, H, Tq, 2] gets each row's shift and 1 / sum. */
    void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor stats);

    /** The gradients of q, k and v (shaped as q, k, v, contiguous) from the forward's stats and gradOut [B, H, Tq, hv]. */
    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor stats, Tensor gradOut, float scale, boolean causal,
                           Tensor gradQ, Tensor gradK, Tensor gradV);
}

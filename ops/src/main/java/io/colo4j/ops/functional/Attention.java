package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;
import java.util.Arrays;

/**
 * Scaled dot-product attention over [B, H, T, hd] heads as one op: the scores never enter the graph,
 * only the probabilities are kept for backward.
 */
public final class Attention {
    private Attention() {}

    public static Tensor scaledDotProduct(Tensor q, Tensor k, Tensor v, boolean causal) {
        if (Dispatcher.any(q, k, v)) {
            return Dispatcher.dispatch("attention", in -> scaledDotProduct(in[0], in[1], in[2], causal), q, k, v);
        }
        if (q.dim() != 4 || !Arrays.equals(q.shape(), k.shape()) || !Arrays.equals(q.shape(), v.shape())) {
            throw ShapeException.of("attention", "q, k and v must all be [batch, heads, seq, head_dim]", q.shape(), k.shape(), v.shape());
        }
        int[] s = q.shape();
        int t = s[2];
        float scale = (float) (1.0 / Math.sqrt(s[3]));
        Tensor qd = q.detach();
        Tensor kd = k.detach();
        Tensor vd = v.detach();
        Tensor scores = Matmul.product(qd, kd.mT(), new int[] {s[0], s[1], t, t});
        Tensor probs = Tensor.zeros(scores.shape());
        Backends.current().softmax(scores, scale, causal, probs);
        Tensor out = Matmul.product(probs, vd, s);
        return Autograd.record("attention", out, g -> {
            Tensor gp = Matmul.product(g, vd.mT(), probs.shape());
            Tensor gs = Tensor.zeros(probs.shape());
            Backends.current().softmaxBackward(probs, gp, scale, gs);
            return new Tensor[] {
                Matmul.product(gs, kd, s),
                Matmul.product(gs.mT(), qd, s),
                Matmul.product(probs.mT(), g, s)};
        }, q, k, v);
    }
}

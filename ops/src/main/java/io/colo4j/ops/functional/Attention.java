package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.AttentionKernels;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;
import java.util.Arrays;

/**
 * Scaled dot-product attention over [B, H, T, hd] heads as one op: the scores never enter the graph. On a backend
 * with {@link AttentionKernels} (cpu) and no bias it is one fused kernel per (batch, head) tile that keeps only each
 * query row's softmax statistics for backward; otherwise matmul, softmax and matmul, keeping the probabilities.
 */
public final class Attention {
    /** {@code -Dcolo4j.attention=composed} keeps the composed path on every backend: a baseline for benchmarks. */
    private static final boolean FUSED = !"composed".equals(System.getProperty("colo4j.attention"));

    private Attention() {}

    public static Tensor scaledDotProduct(Tensor q, Tensor k, Tensor v, boolean causal) {
        return scaledDotProduct(q, k, v, null, causal, Float.NaN);
    }

    /**
     * softmax(scale * q k^T + bias, causal) v over q [B, H, Tq, hd], k [B, H, Tk, hd], v [B, H, Tk, hv].
     * {@code bias} (a padding mask, T5's relative position bias; null for none) broadcasts to
     * [B, H, Tq, Tk] and gets a gradient when it requires one; {@code scale} NaN means 1/sqrt(hd).
     */
    public static Tensor scaledDotProduct(Tensor q, Tensor k, Tensor v, Tensor bias, boolean causal, float scale) {
        if (Dispatcher.any(q, k, v) || Dispatcher.any(bias)) {
            return Dispatcher.dispatch(Ops.ATTENTION,
                    in -> scaledDotProduct(in[0], in[1], in[2], in[3], causal, scale), q, k, v, bias);
        }
        int[] qs = q.shape();
        int[] ks = k.shape();
        int[] vs = v.shape();
        if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || qs[0] != ks[0] || qs[1] != ks[1] || qs[3] != ks[3]
                || vs[0] != ks[0] || vs[1] != ks[1] || vs[2] != ks[2] || (causal && qs[2] != ks[2])) {
            throw ShapeException.of("attention", "q [B, H, Tq, hd], k [B, H, Tk, hd] and v [B, H, Tk, hv] do not agree"
                    + (causal ? " (causal needs Tq == Tk)" : ""), qs, ks, vs);
        }
        int[] scoreShape = {qs[0], qs[1], qs[2], ks[2]};
        float alpha = Float.isNaN(scale) ? (float) (1.0 / Math.sqrt(qs[3])) : scale;
        if (FUSED && bias == null && Backends.current() instanceof AttentionKernels) {
            return fused(q, k, v, causal, alpha);
        }
        Tensor qd = q.detach();
        Tensor kd = k.detach();
        Tensor vd = v.detach();
        Tensor scores = Matmul.product(qd, kd.mT(), scoreShape, alpha);
        if (bias != null) {
            Shapes.broadcast("attention bias", bias.shape(), scoreShape);
            Backends.current().binary(BinaryOp.ADD, scores, Broadcasting.expand(bias.detach(), scoreShape), scores);
        }
        Tensor probs = Tensor.empty(scoreShape);
        Backends.current().softmax(scores, 1f, causal, probs);
        scores.storage().release(); // [B, H, Tq, Tk], dead once softmaxed: only probs is saved
        Tensor out = Matmul.product(probs, vd, new int[] {qs[0], qs[1], qs[2], vs[3]}, 1f);
        return Autograd.record("attention", out, g -> {
            Tensor gp = Matmul.product(g, vd.mT(), scoreShape, 1f);
            Tensor gs = Tensor.empty(scoreShape);
            Backends.current().softmaxBackward(probs, gp, 1f, gs);
            gp.storage().release(); // the two [B, H, Tq, Tk] temporaries die within this backward
            Tensor gBias = bias != null && bias.requiresGrad() ? Broadcasting.reduceTo(gs, bias.shape()) : null;
            Tensor[] grads = {Matmul.product(gs, kd, qs, alpha), Matmul.product(gs.mT(), qd, ks, alpha),
                Matmul.product(probs.mT(), g, vs, 1f), gBias};
            if (gBias == null || gBias.storageIfAny() != gs.storageIfAny()) {
                gs.storage().release();
            }
            return grads;
        }, q, k, v, bias);
    }

    /** One fused kernel each way; saved for backward: q, k, v and [B, H, Tq, 2] row statistics. */
    private static Tensor fused(Tensor q, Tensor k, Tensor v, boolean causal, float alpha) {
        Tensor qd = lastDimDense(q.detach());
        Tensor kd = lastDimDense(k.detach());
        Tensor vd = lastDimDense(v.detach());
        int[] qs = q.shape();
        Tensor out = Tensor.empty(qs[0], qs[1], qs[2], v.size(3));
        Tensor stats = Tensor.empty(qs[0], qs[1], qs[2], 2);
        ((AttentionKernels) Backends.current()).attention(qd, kd, vd, alpha, causal, out, stats);
        return Autograd.record("attention", out, g -> {
            Tensor gq = Tensor.empty(qs);
            Tensor gk = Tensor.empty(k.shape());
            Tensor gv = Tensor.empty(v.shape());
            Tensor gd = lastDimDense(g);
            ((AttentionKernels) Backends.current()).attentionBackward(qd, kd, vd, stats, gd, alpha, causal, gq, gk, gv);
            Matmul.releaseCopy(gd, g);
            return new Tensor[] {gq, gk, gv, null};
        }, q, k, v, null);
    }

    /** x itself when its last dim has stride 1 (heads cut from a fused projection: no copy), else a contiguous copy. */
    private static Tensor lastDimDense(Tensor x) {
        return x.stride(3) == 1 ? x : x.contiguous();
    }
}

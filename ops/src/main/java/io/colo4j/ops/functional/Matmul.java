package io.colo4j.ops.functional;

import io.colo4j.ops.dist.DistOps;
import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.GemmOperand;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;
import io.colo4j.tensor.nn.WeightLayout;

/**
 * matmul / bmm and the two linear layouts: torch Linear (weight [out, in], y = x W^T + b) and
 * HuggingFace Conv1D (weight [in, out], y = x W + b, i.e. addmm). Transposes are strided views.
 */
public final class Matmul {
    private Matmul() {}

    /** a [..., m, k] @ b [..., k, n] with equal batch dims, or b 2-d (shared by the batch). */
    public static Tensor matmul(Tensor a, Tensor b) {
        if (Dispatcher.any(a, b)) {
            return Dispatcher.dispatch(Ops.MATMUL, in -> matmul(in[0], in[1]), a, b);
        }
        if (a.dim() < 2 || b.dim() < 2) {
            throw ShapeException.of("matmul", "operands need at least 2 dims", a.shape(), b.shape());
        }
        int k = a.size(-1);
        if (b.size(-2) != k) {
            throw ShapeException.of("matmul", "inner dims differ (" + k + " vs " + b.size(-2) + ")", a.shape(), b.shape());
        }
        if (b.dim() == 2 && a.dim() > 2) {
            int[] outShape = a.shape();
            outShape[outShape.length - 1] = b.size(1);
            return matmul(a.reshape(-1, k), b).view(outShape);
        }
        if (a.dim() != b.dim()) {
            throw ShapeException.of("matmul", "batch dims must match (or b must be 2-d)", a.shape(), b.shape());
        }
        for (int d = 0; d < a.dim() - 2; d++) {
            if (a.size(d) != b.size(d)) {
                throw ShapeException.of("matmul", "batch dim " + d + " differs", a.shape(), b.shape());
            }
        }
        Tensor pa = GemmOperand.prepare(a);
        Tensor pb = GemmOperand.prepare(b);
        int[] outShape = a.shape();
        outShape[outShape.length - 1] = b.size(-1);
        Tensor out = Tensor.empty(outShape);
        Backends.current().matmul(pa, pb, out, 1f, 0f);
        return Autograd.record("matmul", out, g -> new Tensor[] {
            a.requiresGrad() ? matmul(g, pb.mT()) : null,
            b.requiresGrad() ? matmul(pa.mT(), g) : null}, a, b);
    }

    /** torch.nn.functional.linear: x @ weight^T + bias, weight [out, in]. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return linear(x, weight, bias, WeightLayout.OUT_IN);
    }

    /** HuggingFace Conv1D / torch.addmm: x @ weight + bias, weight [in, out]. */
    public static Tensor addmm(Tensor bias, Tensor x, Tensor weight) {
        return linear(x, weight, bias, WeightLayout.IN_OUT);
    }

    public static Tensor linear(Tensor x, Tensor weight, Tensor bias, WeightLayout layout) {
        if (Dispatcher.any(x, weight, bias)) {
            return DistOps.linear(x, weight, bias, layout);
        }
        String op = layout == WeightLayout.OUT_IN ? "linear" : "addmm";
        if (weight.dim() != 2 || x.dim() < 1) {
            throw ShapeException.of(op, "weight must be 2-d", x.shape(), weight.shape());
        }
        int in = weight.size(layout.inDim());
        int outFeatures = weight.size(layout.outDim());
        if (x.size(-1) != in) {
            throw ShapeException.of(op, "input features " + x.size(-1) + " do not match the weight's " + in,
                    x.shape(), weight.shape());
        }
        if (bias != null && (bias.dim() != 1 || bias.size(0) != outFeatures)) {
            throw ShapeException.of(op, "bias must be [" + outFeatures + "]", weight.shape(), bias.shape());
        }
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = outFeatures;
        Tensor x2 = x.isContiguous() ? x.detach().view(-1, in) : x.detach().contiguous().view(-1, in);
        Tensor w = weight.detach();
        Tensor wOp = layout == WeightLayout.OUT_IN ? w.mT() : w;
        Tensor out = Tensor.empty(x2.size(0), outFeatures);
        float beta = 0f;
        if (bias != null) {
            out.copyFrom(Broadcasting.expand(bias.detach(), out.shape()));
            beta = 1f;
        }
        Backends.current().matmul(x2, wOp, out, 1f, beta);
        Tensor result = out.view(outShape);
        io.colo4j.tensor.colo.RegatheredInputs.readBy(x2); // a sequence-parallel gathered input may be given back and gathered again
        return Autograd.record(op, result, g -> {
            Tensor g2 = g.reshape(-1, outFeatures);
            Tensor gx = null;
            Tensor gw = null;
            Tensor gb = null;
            if (x.requiresGrad()) {
                gx = Tensor.empty(x2.shape());
                Backends.current().matmul(g2, layout == WeightLayout.OUT_IN ? w : w.mT(), gx, 1f, 0f);
                gx = gx.view(x.shape());
            }
            if (weight.requiresGrad()) {
                Tensor xw = io.colo4j.tensor.colo.RegatheredInputs.whole(x2);
                gw = Autograd.gradientBuffer(w, weight.shape());
                if (layout == WeightLayout.OUT_IN) {
                    Backends.current().matmul(g2.mT(), xw, gw, 1f, 0f);
                } else {
                    Backends.current().matmul(xw.mT(), g2, gw, 1f, 0f);
                }
            }
            io.colo4j.tensor.colo.RegatheredInputs.readDone(x2);
            if (bias != null && bias.requiresGrad()) {
                gb = Broadcasting.reduceTo(g2, bias.shape());
            }
            releaseCopy(g2, g); // a strided g's 2-d copy: read by the gemms and the bias sum above only
            return new Tensor[] {gx, gw, gb};
        }, x, weight, bias);
    }

    /** Used by attention: a fresh out = alpha * a @ b without recording. */
    static Tensor product(Tensor a, Tensor b, int[] outShape, float alpha) {
        Tensor out = Tensor.empty(outShape);
        Tensor pa = GemmOperand.prepare(a);
        Tensor pb = GemmOperand.prepare(b);
        Backends.current().matmul(pa, pb, out, alpha, 0f);
        releaseCopy(pa, a);
        releaseCopy(pb, b);
        return out;
    }

    /** A contiguous copy made of {@code original} for one kernel (e.g. by {@link GemmOperand#prepare}) dies with it. */
    static void releaseCopy(Tensor prepared, Tensor original) {
        if (prepared.storageIfAny() != original.storageIfAny()) {
            prepared.storage().release();
        }
    }

}

package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/** Softmax over the last dim, with an optional scale and causal mask fused in. */
public final class SoftmaxOps {
    private SoftmaxOps() {}

    public static Tensor softmax(Tensor x, int dim) {
        if (dim != -1 && dim != x.dim() - 1) {
            throw ShapeException.of("softmax", "only the last dim is supported, got dim " + dim
                    + "; transpose the dim last first", x.shape());
        }
        return scaledSoftmax(x, 1f, false);
    }

    public static Tensor scaledSoftmax(Tensor x, float scale, boolean causal) {
        if (Dispatcher.any(x)) {
            return Dispatcher.dispatch(causal ? Ops.CAUSAL_SOFTMAX : Ops.SOFTMAX, in -> scaledSoftmax(in[0], scale, causal), x);
        }
        if (x.dim() < 1 || (causal && (x.dim() < 2 || x.size(-1) != x.size(-2)))) {
            throw ShapeException.of("softmax", causal ? "causal softmax needs [..., T, T]" : "needs at least 1 dim", x.shape());
        }
        Tensor input = x.isContiguous() ? x.detach() : x.detach().contiguous();
        Tensor out = Tensor.empty(x.shape());
        Backends.current().softmax(input, scale, causal, out);
        return Autograd.record("softmax", out, g -> {
            Tensor gin = Tensor.empty(x.shape());
            Backends.current().softmaxBackward(out, g.isContiguous() ? g : g.contiguous(), scale, gin);
            return new Tensor[] {gin};
        }, x);
    }
}

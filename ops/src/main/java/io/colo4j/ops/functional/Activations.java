package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/** Elementwise activations. */
public final class Activations {
    private Activations() {}

    public static Tensor unary(UnaryOp op, Tensor x) {
        if (Dispatcher.any(x)) {
            return Dispatcher.dispatch(Ops.UNARY, in -> unary(op, in[0]), x);
        }
        Tensor input = x.isContiguous() ? x.detach() : x.detach().contiguous();
        Tensor out = Tensor.empty(x.shape());
        Backends.current().unary(op, input, out);
        return Autograd.record(op.name().toLowerCase(java.util.Locale.ROOT), out, g -> {
            Tensor gin = Tensor.empty(input.shape());
            Backends.current().unaryBackward(op, input, g.isContiguous() ? g : g.contiguous(), gin);
            return new Tensor[] {gin};
        }, x);
    }

    /**
     * op(x + bias), bias [x's last dim] on every row, in one pass that keeps only x for backward (Megatron's fused
     * bias_gelu): the bias leaves the matmul before it, which then skips writing the bias out and reading it back.
     * The bias gradient is the input gradient summed over rows.
     */
    public static Tensor biasUnary(UnaryOp op, Tensor x, Tensor bias) {
        if (Dispatcher.any(x, bias)) {
            return Dispatcher.dispatch(Ops.BIAS_UNARY, in -> biasUnary(op, in[0], in[1]), x, bias);
        }
        if (x.dim() < 1 || bias.dim() != 1 || bias.size(0) != x.size(-1)) {
            throw ShapeException.of("bias_" + op.name().toLowerCase(java.util.Locale.ROOT),
                    "the bias must be 1-d with x's last dim", x.shape(), bias.shape());
        }
        Tensor input = x.isContiguous() ? x.detach() : x.detach().contiguous();
        Tensor b = bias.isContiguous() ? bias.detach() : bias.detach().contiguous();
        Tensor out = Tensor.empty(x.shape());
        Backends.current().biasUnary(op, input, b, out);
        return Autograd.record("bias_" + op.name().toLowerCase(java.util.Locale.ROOT), out, g -> {
            Tensor gin = Tensor.empty(input.shape());
            Backends.current().biasUnaryBackward(op, input, b, g.isContiguous() ? g : g.contiguous(), gin);
            Tensor gb = bias.requiresGrad() ? Broadcasting.reduceTo(gin, bias.shape()) : null;
            return new Tensor[] {gin, gb};
        }, x, bias);
    }
}

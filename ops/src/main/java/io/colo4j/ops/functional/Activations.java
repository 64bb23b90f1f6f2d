package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.UnaryOp;
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
        Tensor out = Tensor.zeros(x.shape());
        Backends.current().unary(op, input, out);
        return Autograd.record(op.name().toLowerCase(java.util.Locale.ROOT), out, g -> {
            Tensor gin = Tensor.zeros(input.shape());
            Backends.current().unaryBackward(op, input, g.isContiguous() ? g : g.contiguous(), gin);
            return new Tensor[] {gin};
        }, x);
    }
}

package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/** Broadcasting arithmetic, scalar scaling and full reductions. */
public final class Arithmetic {
    private Arithmetic() {}

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        if (Dispatcher.any(a, b)) {
            return binaryDispatched(op, a, b);
        }
        return binaryLocal(op, a, b);
    }

    public static Tensor binaryDispatched(BinaryOp op, Tensor a, Tensor b) {
        return Dispatcher.dispatch(Ops.binary(op), in -> binaryLocal(op, in[0], in[1]), a, b);
    }

    private static Tensor binaryLocal(BinaryOp op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        int[] shape = Broadcasting.shapeOf(name, a, b);
        Tensor out = Tensor.empty(shape);
        Backends.current().binary(op, Broadcasting.expand(a, shape), Broadcasting.expand(b, shape), out);
        int[] sa = a.shape();
        int[] sb = b.shape();
        return Autograd.record(name, out, g -> switch (op) {
            case ADD -> new Tensor[] {Broadcasting.reduceTo(g, sa), Broadcasting.reduceTo(g, sb)};
            case SUB -> new Tensor[] {Broadcasting.reduceTo(g, sa), Broadcasting.reduceTo(scale(g, -1f), sb)};
            case MUL -> new Tensor[] {
                a.requiresGrad() ? Broadcasting.reduceTo(binary(BinaryOp.MUL, g, b), sa) : null,
                b.requiresGrad() ? Broadcasting.reduceTo(binary(BinaryOp.MUL, g, a), sb) : null};
            case DIV -> new Tensor[] {
                a.requiresGrad() ? Broadcasting.reduceTo(binary(BinaryOp.DIV, g, b), sa) : null,
                b.requiresGrad() ? Broadcasting.reduceTo(
                        scale(binary(BinaryOp.DIV, binary(BinaryOp.MUL, g, out), b), -1f), sb) : null};
        }, a, b);
    }

    public static Tensor scale(Tensor x, float factor) {
        if (Dispatcher.any(x)) {
            return Dispatcher.dispatch(Ops.SCALE, in -> scale(in[0], factor), x);
        }
        Tensor out = Tensor.empty(x.shape());
        Backends.current().binary(BinaryOp.MUL, x, Broadcasting.expand(Tensor.scalar(factor), x.shape()), out);
        return Autograd.record("scale", out, g -> new Tensor[] {scale(g, factor)}, x);
    }

    /** Sum of all elements, as a 0-d tensor. */
    public static Tensor sum(Tensor x) {
        if (Dispatcher.any(x)) {
            return Dispatcher.dispatch(Ops.SUM, in -> sum(in[0]), x);
        }
        int[] ones = new int[x.dim()];
        java.util.Arrays.fill(ones, 1);
        Tensor out = Tensor.empty(ones);
        Backends.current().sumTo(x, out);
        int[] shape = x.shape();
        return Autograd.record("sum", out.view(), g -> new Tensor[] {Broadcasting.expand(g, shape).copy()}, x);
    }

    public static Tensor mean(Tensor x) {
        if (Dispatcher.any(x)) {
            return io.colo4j.ops.dist.DistOps.mean(x);
        }
        return scale(sum(x), 1f / Math.max(1, x.numel()));
    }
}

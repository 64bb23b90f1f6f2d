package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.autograd.Autograd;

/** Elementwise activations and dropout. */
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
     * Inverted dropout with a counter-based mask: the same seed drops the same elements on every run
     * and every rank. Identity when not training or p == 0.
     */
    public static Tensor dropout(Tensor x, float p, boolean training, long seed) {
        if (!training || p == 0f) {
            return x;
        }
        if (Dispatcher.any(x)) {
            // a shard draws its own mask stream, as Megatron's model-parallel RNG does for split activations
            boolean split = ColoTensor.dist(x).spec().kind() == io.colo4j.spec.PlacementKind.SHARD;
            long stream = split ? seed ^ (0x9E3779B97F4A7C15L * (ColoTensor.dist(x).context().tpRank() + 1)) : seed;
            return Dispatcher.dispatch(Ops.UNARY, in -> dropout(in[0], p, true, stream), x);
        }
        Tensor mask = Tensor.zeros(x.shape());
        Backends.current().dropoutMask(p, seed, mask);
        Tensor out = Tensor.zeros(x.shape());
        Backends.current().binary(BinaryOp.MUL, x, mask, out);
        return Autograd.record("dropout", out, g -> {
            Tensor gin = Tensor.zeros(x.shape());
            Backends.current().binary(BinaryOp.MUL, g, mask, gin);
            return new Tensor[] {gin};
        }, x);
    }
}

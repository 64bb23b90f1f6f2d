package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/** Ops that copy data into a new arrangement. */
public final class Shaping {
    private Shaping() {}

    /**
     * Each slice along {@code dim} repeated {@code repeats} times in place, as torch.repeat_interleave:
     * how grouped-query attention gives every query head its key/value head.
     */
    public static Tensor repeatInterleave(Tensor x, int repeats, int dim) {
        if (Dispatcher.any(x)) {
            return Dispatcher.dispatch(Ops.REPEAT_INTERLEAVE, new Object[] {dim}, in -> repeatInterleave(in[0], repeats, dim), x);
        }
        int d = Shapes.dim("repeat_interleave", dim, x.dim());
        if (repeats < 1) {
            throw ShapeException.of("repeat_interleave", "repeats must be >= 1, got " + repeats, x.shape());
        }
        int[] shape = x.shape();
        int[] grouped = new int[shape.length + 1];
        int[] expanded = new int[shape.length + 1];
        for (int i = 0, j = 0; i < grouped.length; i++) {
            if (i == d + 1) {
                grouped[i] = 1;
                expanded[i] = repeats;
            } else {
                grouped[i] = shape[j];
                expanded[i] = shape[j];
                j++;
            }
        }
        int[] outShape = shape.clone();
        outShape[d] = shape[d] * repeats;
        Tensor source = x.detach().reshape(grouped);
        Tensor out = Broadcasting.expand(source, expanded).copy().view(outShape);
        return Autograd.record("repeat_interleave", out,
                g -> new Tensor[] {Broadcasting.reduceTo(g.reshape(expanded), grouped).reshape(shape)}, x);
    }
}

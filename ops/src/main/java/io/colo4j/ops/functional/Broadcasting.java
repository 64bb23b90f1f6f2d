package io.colo4j.ops.functional;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;

/** Broadcast views (stride 0, no copy) and the reduction that takes a gradient back to an input's shape. */
final class Broadcasting {
    private Broadcasting() {}

    static Tensor expand(Tensor t, int[] shape) {
        int[] from = t.shape();
        long[] strides = t.strides();
        int lead = shape.length - from.length;
        long[] newStrides = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            int j = i - lead;
            if (j < 0 || (from[j] == 1 && shape[i] != 1)) {
                newStrides[i] = 0;
            } else {
                newStrides[i] = strides[j];
            }
        }
        return t.asStrided(shape, newStrides, t.offset());
    }

    /** Sums {@code grad} over the dims that broadcasting added or stretched, giving {@code shape}. */
    static Tensor reduceTo(Tensor grad, int[] shape) {
        int[] g = grad.shape();
        if (java.util.Arrays.equals(g, shape)) {
            return grad;
        }
        int[] padded = new int[g.length];
        int lead = g.length - shape.length;
        for (int i = 0; i < g.length; i++) {
            padded[i] = i < lead ? 1 : shape[i - lead];
        }
        Tensor out = Tensor.empty(padded);
        Backends.current().sumTo(grad, out);
        return out.view(shape.length == 0 ? new int[0] : shape);
    }

    static int[] shapeOf(String op, Tensor a, Tensor b) {
        return Shapes.broadcast(op, a.shape(), b.shape());
    }
}

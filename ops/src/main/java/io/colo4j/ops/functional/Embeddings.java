package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/** Embedding lookup; {@code rowOffset} lets a vocab-parallel shard look up only the ids it owns. */
public final class Embeddings {
    private Embeddings() {}

    public static Tensor embedding(IntTensor ids, Tensor weight) {
        int vocab = weight.isDistributed() ? io.colo4j.tensor.colo.ColoTensor.dist(weight).validShape()[0] : weight.size(0);
        for (int i = 0; i < ids.numel(); i++) {
            if (ids.get(i) < 0 || ids.get(i) >= vocab) {
                throw ShapeException.of("embedding", "id " + ids.get(i) + " at position " + i
                        + " is outside the vocabulary of " + vocab, weight.shape());
            }
        }
        if (Dispatcher.any(weight)) {
            return Dispatcher.dispatch(Ops.EMBEDDING, new Object[] {ids}, in -> shard(ids, in[0], 0), weight);
        }
        return shard(ids, weight, 0);
    }

    /** Rows of ids outside [rowOffset, rowOffset + rows) come out zero. */
    public static Tensor shard(IntTensor ids, Tensor weight, int rowOffset) {
        if (weight.dim() != 2) {
            throw ShapeException.of("embedding", "weight must be [vocab, dim]", weight.shape());
        }
        Tensor w = weight.isContiguous() ? weight.detach() : weight.detach().contiguous();
        int[] idShape = ids.shape();
        int[] outShape = java.util.Arrays.copyOf(idShape, idShape.length + 1);
        outShape[idShape.length] = weight.size(1);
        Tensor out = Tensor.empty(outShape);
        Backends.current().embedding(ids, w, rowOffset, out);
        return Autograd.record("embedding", out, g -> {
            Tensor gw = Autograd.gradientBufferOfZeros(w, weight.shape());
            Backends.current().embeddingBackward(ids, g.isContiguous() ? g : g.contiguous(), rowOffset, gw);
            return new Tensor[] {gw};
        }, weight);
    }
}

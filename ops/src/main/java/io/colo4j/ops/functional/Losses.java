package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/** Cross-entropy, mean over the targets that are not ignored (torch's default reduction). */
public final class Losses {
    public static final int IGNORE_INDEX = -100;

    private Losses() {}

    public static Tensor crossEntropy(Tensor logits, IntTensor targets) {
        return crossEntropy(logits, targets, IGNORE_INDEX, logits.globalShape()[logits.dim() - 1]);
    }

    /** Only the first {@code validClasses} logits count: vocab padding never wins and never adds to the loss. */
    public static Tensor crossEntropy(Tensor logits, IntTensor targets, int ignoreIndex, int validClasses) {
        return crossEntropy(logits, targets, ignoreIndex, validClasses, false);
    }

    /**
     * {@link #crossEntropy}, whose backward writes the logits' gradient over the logits (as Megatron's vocab-parallel
     * loss does), for a caller that never reads them again: a model's loss over {@code forward(ids)}. The logits of a
     * language model are the step's largest tensor ([tokens, vocab / tp]); this saves a second one. After backward the
     * logits, and every view of them, fail on any access naming this op. Logits that are not the whole of a block of
     * step memory (a leaf made outside the step, a view into a larger tensor) get a gradient buffer of their own.
     */
    public static Tensor crossEntropyConsuming(Tensor logits, IntTensor targets) {
        return crossEntropy(logits, targets, IGNORE_INDEX, logits.globalShape()[logits.dim() - 1], true);
    }

    /** {@code consume}: see {@link #crossEntropyConsuming}. */
    public static Tensor crossEntropy(Tensor logits, IntTensor targets, int ignoreIndex, int validClasses, boolean consume) {
        if (Dispatcher.any(logits)) {
            // the rule reads the valid class count from the logits' spec (vocab padding), and takes ids as args
            return Dispatcher.dispatch(Ops.CROSS_ENTROPY, new Object[] {targets, ignoreIndex, consume},
                    in -> crossEntropy(in[0], targets, ignoreIndex, validClasses, consume), logits);
        }
        int v = logits.size(-1);
        long rows = logits.numel() / Math.max(v, 1);
        if (rows != targets.numel()) {
            throw ShapeException.of("cross_entropy", rows + " rows of logits but " + targets.numel() + " targets",
                    logits.shape(), targets.shape());
        }
        if (validClasses < 1 || validClasses > v) {
            throw ShapeException.of("cross_entropy", "valid classes " + validClasses + " outside 1.." + v, logits.shape());
        }
        Tensor flat = (logits.isContiguous() ? logits.detach() : logits.detach().contiguous()).view(-1, v);
        Tensor losses = Tensor.empty((int) rows);
        Tensor lse = Tensor.empty((int) rows);
        Backends.current().crossEntropy(flat, targets, ignoreIndex, validClasses, losses, lse);
        int counted = 0;
        double total = 0;
        float[] perRow = losses.toFloatArray();
        for (int i = 0; i < rows; i++) {
            if (targets.get(i) != ignoreIndex) {
                counted++;
                total += perRow[i];
            }
        }
        int count = Math.max(counted, 1);
        Tensor loss = Tensor.scalar((float) (total / count));
        int[] shape = logits.shape();
        return Autograd.record("cross_entropy", loss, g -> {
            Tensor gl = logitsGradient(flat, consume, targets, ignoreIndex, validClasses, lse, g.item() / count);
            return new Tensor[] {gl.view(shape)};
        }, logits);
    }

    /**
     * The gradient of cross-entropy over {@code flatLogits} [rows, V] (see {@code KernelBackend.crossEntropyBackward}),
     * written over the logits themselves when the caller let the loss consume them and they can be
     * ({@link Tensor#canBeConsumed}: the kernels read each logit before writing its gradient), else into a buffer of its own.
     */
    public static Tensor logitsGradient(Tensor flatLogits, boolean consume, IntTensor targets, int ignoreIndex,
                                        int validColumns, Tensor logSumExp, float rowScale) {
        boolean inPlace = consume && flatLogits.canBeConsumed();
        Tensor grad = inPlace ? flatLogits.consume("cross-entropy's backward") : Tensor.empty(flatLogits.shape());
        Backends.current().crossEntropyBackward(inPlace ? grad : flatLogits, targets, ignoreIndex, validColumns, logSumExp,
                rowScale, grad);
        return grad;
    }
}

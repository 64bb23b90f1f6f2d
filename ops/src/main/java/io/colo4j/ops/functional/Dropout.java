package io.colo4j.ops.functional;

import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.ops.dist.Ops;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.tensor.ShapeException;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/**
 * Inverted dropout, and bias + dropout + residual fused into one pass. Element g of the serial tensor
 * is dropped by a counter-based draw of (seed, g) ({@link DropoutBits}); on ranks the dispatcher hands
 * each shard its elements' global indices ({@link GlobalIndex}), so every tp and dp layout draws the
 * serial model's mask. The mask is never stored: backward redraws it.
 */
public final class Dropout {
    private Dropout() {}

    /** Identity when not training or p == 0. */
    public static Tensor dropout(Tensor x, float p, boolean training, long seed) {
        if (!training || p == 0f) {
            return x;
        }
        if (Dispatcher.any(x)) {
            return Dispatcher.dispatch(Ops.DROPOUT, new Object[] {p, seed}, in -> {
                throw new IllegalStateException("dropout runs through its strategies' local functions");
            }, x);
        }
        return dropout(x, DropoutBits.of(p, seed), GlobalIndex.whole(x.numel(), 0));
    }

    /** Dropout of a local tensor whose elements sit at {@code index} in the serial tensor. */
    public static Tensor dropout(Tensor x, DropoutBits bits, GlobalIndex index) {
        Tensor in = x.isContiguous() ? x.detach() : x.detach().contiguous();
        Tensor out = Tensor.empty(x.shape());
        Backends.current().dropout(bits, index, in, out);
        return Autograd.record("dropout", out, g -> new Tensor[] {masked(g, bits, index)}, x);
    }

    /**
     * residual + dropout(x + bias) in one pass (Megatron's bias_dropout_add): bias [C] over x's last dim, or
     * null; not training (or p == 0) it is residual + (x + bias), with the same rounding.
     */
    public static Tensor biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, float p, boolean training, long seed) {
        return biasDropoutAdd(x, bias, residual, p, training, seed, false);
    }

    /**
     * {@link #biasDropoutAdd(Tensor, Tensor, Tensor, float, boolean, long)} that writes its result over x, for a caller
     * that never reads x again (a row layer's output inside {@code Linear.forwardDropoutAdd}): its backward does not
     * read x, so x's buffer, which nothing else holds, is the output's (one [tokens, C] buffer per block less). x then
     * fails on any access, naming this op; x that is not a whole block of step memory gets an output of its own.
     */
    public static Tensor biasDropoutAddConsuming(Tensor x, Tensor bias, Tensor residual, float p, boolean training, long seed) {
        return biasDropoutAdd(x, bias, residual, p, training, seed, true);
    }

    private static Tensor biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, float p, boolean training, long seed,
                                         boolean consume) {
        float rate = training ? p : 0f;
        if (Dispatcher.any(x, bias, residual)) {
            return Dispatcher.dispatch(Ops.BIAS_DROPOUT_ADD, new Object[] {rate, seed, consume}, in -> {
                throw new IllegalStateException("bias_dropout_add runs through its strategies' local functions");
            }, x, bias, residual);
        }
        return biasDropoutAdd(x, bias, residual, DropoutBits.of(rate, seed), GlobalIndex.whole(x.numel(), 0), consume);
    }

    /** {@link #biasDropoutAdd(Tensor, Tensor, Tensor, float, boolean, long)} of local tensors at {@code index}. */
    public static Tensor biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, DropoutBits bits, GlobalIndex index) {
        return biasDropoutAdd(x, bias, residual, bits, index, false);
    }

    /**
     * The same, over x's own buffer when {@code consume} and x can be taken ({@link Tensor#canBeConsumed}; the kernels
     * read each element of x before writing it): see {@link #biasDropoutAddConsuming}.
     */
    public static Tensor biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, DropoutBits bits, GlobalIndex index,
                                        boolean consume) {
        String op = "bias_dropout_add";
        if (!java.util.Arrays.equals(x.shape(), residual.shape())) {
            throw ShapeException.of(op, "x and residual must have the same shape", x.shape(), residual.shape());
        }
        if (bias != null && (bias.dim() != 1 || x.dim() == 0 || bias.size(0) != x.size(-1))) {
            throw ShapeException.of(op, "bias must be [" + (x.dim() == 0 ? 1 : x.size(-1)) + "], over x's last dim", x.shape(), bias.shape());
        }
        Tensor xc = x.isContiguous() ? x.detach() : x.detach().contiguous();
        Tensor rc = residual.isContiguous() ? residual.detach() : residual.detach().contiguous();
        Tensor bc = bias == null ? null : bias.isContiguous() ? bias.detach() : bias.detach().contiguous();
        boolean inPlace = consume && xc.canBeConsumed() && xc.storageIfAny() != rc.storageIfAny();
        Tensor out = inPlace ? xc.consume("bias_dropout_add") : Tensor.empty(x.shape());
        Backends.current().biasDropoutAdd(inPlace ? out : xc, bc, rc, bits, index, out);
        int[] biasShape = bias == null ? null : bias.shape();
        return Autograd.record(op, out, g -> {
            Tensor gx = x.requiresGrad() || (bias != null && bias.requiresGrad()) ? masked(g, bits, index) : null;
            Tensor gb = bias != null && bias.requiresGrad() ? Broadcasting.reduceTo(gx, biasShape) : null;
            return new Tensor[] {x.requiresGrad() ? gx : null, gb, g};
        }, x, bias, residual);
    }

    /**
     * g * mask, contiguous: dropout's backward, the mask redrawn. Where nothing is dropped (p == 0) it is g itself
     * (made contiguous, as the kernel's output was), as the identity's backward is: no kernel, and the same bits as
     * g * 1.
     */
    private static Tensor masked(Tensor g, DropoutBits bits, GlobalIndex index) {
        Tensor gc = g.isContiguous() ? g : g.contiguous();
        if (bits.keepsAll()) {
            return gc;
        }
        Tensor gin = Tensor.empty(g.shape());
        Backends.current().dropout(bits, index, gc, gin);
        return gin;
    }
}

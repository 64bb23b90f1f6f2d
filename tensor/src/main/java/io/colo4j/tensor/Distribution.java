package io.colo4j.tensor;

import java.util.List;

/**
 * What a tensor's local data is a shard of, for a tensor spread over ranks; a plain tensor has none.
 * The {@code colo} package implements it, so the core never sees specs, ranks or collectives: a
 * {@link Tensor} holds one in a field (telling a shard from a plain tensor is a field read) and hands it
 * the view ops, which on a shard take global arguments as in the serial model.
 *
 * <p>An implementation answers them with views of the local data through the protected {@code local*}
 * methods here, the only way to one, so model code cannot bypass the global shapes by accident.
 */
public abstract class Distribution {
    protected Distribution() {}

    /** The shape of the whole tensor the local data is a shard of. */
    public abstract int[] globalShape();

    /** The shape in the serial model's terms, what {@link Tensor#shape} answers: the global shape without padding. */
    public abstract int[] serialShape();

    /** Whether the local data is the whole serial tensor (replicated, unpadded), so element access may read it. */
    public abstract boolean holdsWhole();

    /** How the tensor is spread, for messages: its spec, the group size and this rank. */
    public abstract String placement();

    /** {@code shard.full()}: the whole tensor, plain, with the serial values; collective, differentiable. */
    protected abstract Tensor full(Tensor shard);

    /** {@code shard.view(shape)} with the global {@code shape} (one dim may be -1). */
    protected abstract Tensor view(Tensor shard, int[] shape);

    /** {@code shard.permute(dims)}: the shard moves with its dim. */
    protected abstract Tensor permute(Tensor shard, int[] dims);

    /** {@code shard.narrow(dim, start, length)} with global indices. */
    protected abstract Tensor narrow(Tensor shard, int dim, int start, int length);

    /** {@code Tensor.cat(dim, tensors)} where at least one of the tensors (one with this distribution) is a shard. */
    protected abstract Tensor cat(int dim, List<Tensor> tensors);

    /**
     * The distribution of a contiguous copy of the shard's data (same placement): nothing an
     * implementation keeps per tensor carries over to the copy.
     */
    protected abstract Distribution forCopy();

    /**
     * Whether a consumer of this tensor took its shared gradient-reduction region (a ColoTensor's copy-to-tp: one node
     * where the partial gradients of all its consumers are summed and then reduced); activation recompute
     * ({@link Checkpoint}) keeps such a region outside a recomputed layer. None by default.
     */
    protected boolean hasSharedRegion() {
        return false;
    }

    /** {@code t}'s shared gradient-reduction region, made if it has none yet (its consumers get the same one). */
    protected Tensor sharedRegion(Tensor t) {
        return t;
    }

    /** From now on consumers of this tensor take {@code region} as its shared gradient-reduction region. */
    protected void useSharedRegion(Tensor region) {}

    /** Makes {@code t} a shard described by this distribution, replacing any it had; returns {@code t}. */
    protected final Tensor label(Tensor t) {
        t.distribution = this;
        return t;
    }

    /** The distribution of {@code t}, or null for a plain tensor. */
    protected static Distribution of(Tensor t) {
        return t.distribution;
    }

    /** {@code t.reshape(shape)} of its own data, whatever it is a shard of. */
    protected static Tensor localReshape(Tensor t, int[] shape) {
        return t.localReshape(shape);
    }

    /** {@code t.permute(dims)} of its own data. */
    protected static Tensor localPermute(Tensor t, int[] dims) {
        return t.localPermute(dims);
    }

    /** {@code t.narrow(dim, start, length)} of its own data, with local indices. */
    protected static Tensor localNarrow(Tensor t, int dim, int start, int length) {
        return t.localNarrow(dim, start, length);
    }

    /** {@code Tensor.cat(dim, tensors)} of the tensors' own data. */
    protected static Tensor localCat(int dim, List<Tensor> tensors) {
        return Tensor.localCat(dim, tensors);
    }
}

package io.colo4j.tensor.comm;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.comm.Collective.Header;
import io.colo4j.tensor.comm.Collective.Op;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntUnaryOperator;
import java.util.stream.IntStream;

/**
 * The tensor-level half of every collective, shared by the backends: shapes and arguments are exchanged
 * and checked on every rank ({@link Collective#validate}), non-contiguous tensors are copied around the
 * call, outputs are allocated; the backend then moves contiguous float buffers.
 */
abstract sealed class AbstractCommunicator implements Communicator permits ThreadCommunicator, MpiCommunicator {
    /** Collectives this rank has entered on this communicator (the same count on every rank). */
    protected long seq;
    private final AtomicBoolean busy = new AtomicBoolean();
    protected volatile boolean closed;

    // ---- backend ----------------------------------------------------------------------------------------

    /**
     * Tells every rank what this rank is entering and returns all ranks' headers, indexed by rank.
     * {@code data} (may be null) is the buffer this rank contributes, for backends that read peers' memory.
     */
    protected abstract Header[] exchange(Header mine, MemorySegment data);

    protected abstract void allReduceData(MemorySegment data);

    protected abstract void allGatherData(MemorySegment local, int[] localShape, int dim, MemorySegment out);

    protected abstract void reduceScatterData(MemorySegment full, int[] fullShape, int dim, MemorySegment out);

    protected abstract void broadcastData(MemorySegment data, int root);

    protected abstract void allToAllData(MemorySegment local, int[] localShape, int splitDim, int concatDim,
                                         MemorySegment out, int[] outShape);

    /**
     * This rank's communicator of a split: {@code members} are the new group's ranks (ranks of this communicator),
     * in the new group's rank order, see {@link #splitMembers}.
     */
    protected abstract Communicator splitData(int[] members, int color, int key);

    /** After the exchange of a barrier (which already waited for every rank). */
    protected abstract void barrierData();

    /** Each rank's rank in the world communicator, by rank of this one. */
    protected abstract int[] worldRanks();

    /** Whether this is the world communicator itself. */
    protected abstract boolean isWorld();

    /** What messages call a rank of the world communicator. */
    protected String worldRankName() {
        return "world rank";
    }

    // ---- naming ranks in messages --------------------------------------------------------------------------

    /** "rank r of n" plus, for sub-groups, where the group sits in the world. */
    protected String where() {
        if (isWorld()) {
            return "rank " + rank() + " of " + size();
        }
        return "rank " + rank() + " of " + size() + " (" + worldRankName() + " " + worldRanks()[rank()] + ", group of world ranks "
                + Arrays.toString(worldRanks()) + ")";
    }

    /** Names rank {@code r} of this communicator for messages. */
    String describe(int r) {
        return isWorld() ? "rank " + r : "rank " + r + " (world rank " + worldRanks()[r] + ")";
    }

    /**
     * The ranks of this communicator that passed {@code color} to a split, ordered as the new group's ranks: by
     * key, ties by rank (MPI_Comm_split's order).
     */
    static int[] splitMembers(Header[] all, int color) {
        return IntStream.range(0, all.length).filter(r -> all[r].arg0() == color).boxed()
                .sorted(Comparator.<Integer>comparingInt(r -> all[r].arg1()).thenComparingInt(r -> r))
                .mapToInt(Integer::intValue).toArray();
    }

    /** The world ranks of {@code members} (ranks of this communicator). */
    final int[] worldRanksOf(int[] members) {
        int[] world = worldRanks();
        return Arrays.stream(members).map(r -> world[r]).toArray();
    }

    /** This rank's rank in the group of {@code members}. */
    final int rankAmong(int[] members) {
        for (int i = 0; i < members.length; i++) {
            if (members[i] == rank()) {
                return i;
            }
        }
        return -1;
    }

    // ---- collectives -------------------------------------------------------------------------------------

    @Override
    public final void allReduce(Tensor t) {
        enter("allReduce");
        try {
            Tensor c = contiguousCopy(t);
            exchangeChecked(Header.of(Op.ALL_REDUCE, seq, t.shape(), 0, 0), c.data());
            allReduceData(c.data());
            copyBack(t, c);
        } finally {
            leave();
        }
    }

    @Override
    public final Tensor allGather(Tensor local, int dim) {
        return alongDim(Op.ALL_GATHER, local, dim, n -> Math.multiplyExact(n, size()), this::allGatherData);
    }

    @Override
    public final Tensor reduceScatter(Tensor full, int dim) {
        return alongDim(Op.REDUCE_SCATTER, full, dim, n -> n / size(), this::reduceScatterData);
    }

    /** Moves a contiguous input of {@code shape} along {@code dim} into a contiguous output. */
    @FunctionalInterface
    private interface AlongDim {
        void move(MemorySegment in, int[] shape, int dim, MemorySegment out);
    }

    /** All-gather or reduce-scatter: the output is the input with dim {@code dim}'s length mapped by {@code length}. */
    private Tensor alongDim(Op op, Tensor in, int dim, IntUnaryOperator length, AlongDim data) {
        enter(op.label);
        try {
            int[] shape = in.shape();
            int d = Collective.normalizeDim(dim, shape.length);
            Tensor c = contiguousCopy(in);
            exchangeChecked(Header.of(op, seq, shape, d, 0), c.data());
            int[] outShape = shape.clone();
            outShape[d] = length.applyAsInt(shape[d]);
            Tensor out = Tensor.zeros(outShape);
            data.move(c.data(), shape, d, out.data());
            return out;
        } finally {
            leave();
        }
    }

    @Override
    public final void broadcast(Tensor t, int root) {
        enter("broadcast");
        try {
            Tensor c = contiguousCopy(t);
            exchangeChecked(Header.of(Op.BROADCAST, seq, t.shape(), root, 0), c.data());
            broadcastData(c.data(), root);
            copyBack(t, c);
        } finally {
            leave();
        }
    }

    @Override
    public final Tensor allToAll(Tensor local, int splitDim, int concatDim) {
        enter("allToAll");
        try {
            int[] shape = local.shape();
            int a = Collective.normalizeDim(splitDim, shape.length);
            int b = Collective.normalizeDim(concatDim, shape.length);
            Tensor c = contiguousCopy(local);
            exchangeChecked(Header.of(Op.ALL_TO_ALL, seq, shape, a, b), c.data());
            int[] outShape = shape.clone();
            outShape[a] = shape[a] / size();
            outShape[b] = Math.multiplyExact(outShape[b], size());
            Tensor out = Tensor.zeros(outShape);
            allToAllData(c.data(), shape, a, b, out.data(), outShape);
            return out;
        } finally {
            leave();
        }
    }

    @Override
    public final void barrier() {
        enter("barrier");
        try {
            exchangeChecked(Header.of(Op.BARRIER, seq, new int[0], 0, 0), null);
            barrierData();
        } finally {
            leave();
        }
    }

    @Override
    public final Communicator split(int color, int key) {
        enter("split");
        try {
            Header[] all = exchangeChecked(Header.of(Op.SPLIT, seq, new int[0], color, key), null);
            return splitData(splitMembers(all, color), color, key);
        } finally {
            leave();
        }
    }

    // ---- flat variants -------------------------------------------------------------------------------------

    @Override
    public final void allReduce(MemorySegment floats) {
        enter("allReduce");
        try {
            int n = floats("allReduce", floats);
            exchangeChecked(Header.of(Op.ALL_REDUCE, seq, new int[] {n}, 0, 0), floats);
            allReduceData(floats);
        } finally {
            leave();
        }
    }

    @Override
    public final void allGather(MemorySegment local, MemorySegment out) {
        flatAlongDim(Op.ALL_GATHER, local, out, out.byteSize() == local.byteSize() * size(), size() + " x ", "", this::allGatherData);
    }

    @Override
    public final void reduceScatter(MemorySegment full, MemorySegment out) {
        flatAlongDim(Op.REDUCE_SCATTER, full, out, out.byteSize() * size() == full.byteSize(), "", " / " + size(), this::reduceScatterData);
    }

    /** The flat all-gather or reduce-scatter: {@code fits} says whether {@code out} has the size the collective needs. */
    private void flatAlongDim(Op op, MemorySegment in, MemorySegment out, boolean fits, String needsBefore, String needsAfter,
                              AlongDim data) {
        enter(op.label);
        try {
            int n = floats(op.label, in);
            if (!fits) {
                throw new IllegalArgumentException(op.label + " on " + where() + ": output holds " + out.byteSize() / Float.BYTES
                        + " floats, needs " + needsBefore + n + needsAfter);
            }
            floats(op.label, out);
            exchangeChecked(Header.of(op, seq, new int[] {n}, 0, 0), in);
            data.move(in, new int[] {n}, 0, out);
        } finally {
            leave();
        }
    }

    @Override
    public final void broadcast(MemorySegment floats, int root) {
        enter("broadcast");
        try {
            int n = floats("broadcast", floats);
            exchangeChecked(Header.of(Op.BROADCAST, seq, new int[] {n}, root, 0), floats);
            broadcastData(floats, root);
        } finally {
            leave();
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private Header[] exchangeChecked(Header mine, MemorySegment data) {
        Header[] all = exchange(mine, data);
        seq++;
        Collective.validate(all, rank(), where());
        return all;
    }

    private void enter(String collective) {
        if (closed) {
            throw new IllegalStateException(collective + " on " + where() + ": communicator is closed");
        }
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException(collective + " on " + where()
                    + ": this communicator is already running a collective on another thread (one at a time per communicator)");
        }
    }

    private void leave() {
        busy.set(false);
    }

    private static Tensor contiguousCopy(Tensor t) {
        return t.isContiguous() ? t : t.copy();
    }

    private static void copyBack(Tensor t, Tensor c) {
        if (c != t) {
            t.detach().copyFrom(c);
        }
    }

    private int floats(String op, MemorySegment seg) {
        if (!seg.isNative()) {
            throw new IllegalArgumentException(op + " on " + where() + ": needs a native (off-heap) segment");
        }
        if (seg.byteSize() % Float.BYTES != 0) {
            throw new IllegalArgumentException(op + " on " + where() + ": " + seg.byteSize() + " bytes is not a whole number of floats");
        }
        long n = seg.byteSize() / Float.BYTES;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + " on " + where() + ": flat buffers hold at most " + Integer.MAX_VALUE
                    + " floats; view a larger one as a multi-dimensional Tensor (Tensor.wrap)");
        }
        return (int) n;
    }
}

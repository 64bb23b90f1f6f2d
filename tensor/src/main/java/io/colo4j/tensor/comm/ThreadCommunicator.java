package io.colo4j.tensor.comm;

import io.colo4j.tensor.comm.Collective.Header;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A rank of a {@link ThreadWorld}: collectives over shared memory, moving as little as possible. Each rank
 * publishes its buffer, then reads the others' directly:
 * <ul>
 *   <li>allReduce: the elements are cut into 64 KiB blocks that the ranks take from a shared counter; for each
 *       element of a block the taker sums all ranks' values in rank order and writes the sum straight into every
 *       rank's buffer; a rank leaves once every block is done, whoever did it (no second barrier: the last rank
 *       to arrive usually sums everything and leaves while the others are still waking). Each element is reduced
 *       exactly once, always in rank order (so every rank gets the same bits whoever computed them), each byte is
 *       read and written once, as by a memcpy of the buffers, and the work spreads over whichever rank threads are
 *       running (a descheduled rank delays the others by at most one block).</li>
 *   <li>allGather / reduceScatter / allToAll / broadcast: each rank reads exactly what it needs from the
 *       published buffers straight into its output, then one barrier.</li>
 * </ul>
 * Barriers spin for up to 50 microseconds (when every rank can have a core), then park; they fail instead of
 * hanging (see {@link ThreadWorld}). Buffers must be in shared memory (every tensor's storage is).
 */
public final class ThreadCommunicator extends AbstractCommunicator {
    private final SharedGroup group;
    private final int rank;
    private int parity;

    ThreadCommunicator(SharedGroup group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size;
    }

    @Override
    public String backend() {
        return "thread";
    }

    @Override
    public Duration timeout() {
        return group.world.timeout();
    }

    /** The world rank of this rank (equal to {@link #rank()} for a world communicator). */
    public int worldRank() {
        return group.worldRanks[rank];
    }

    /** The world this communicator belongs to. */
    public ThreadWorld world() {
        return group.world;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (group.isWorld()) {
            group.world.markFinished(worldRank());
        }
    }

    @Override
    public String toString() {
        return "ThreadCommunicator[" + where() + "]";
    }

    @Override
    protected int[] worldRanks() {
        return group.worldRanks;
    }

    @Override
    protected boolean isWorld() {
        return group.isWorld();
    }

    // ---- exchange --------------------------------------------------------------------------------------

    /** Never started; a segment it may access is one every rank thread may access. */
    private static final Thread ANY_OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    @Override
    protected Header[] exchange(Header mine, MemorySegment data) {
        if (data != null && group.size > 1 && !data.isAccessibleBy(ANY_OTHER_THREAD)) {
            throw new IllegalArgumentException(mine.op().label + " on " + where() + ": the buffer belongs to a confined arena,"
                    + " which other rank threads cannot read; use tensors (shared memory) or Arena.ofShared()");
        }
        parity = (int) (seq & 1);
        if (rank == 0) {
            // the work cursor of this parity was last used two collectives ago, which everyone has left
            group.cursors[parity].set(0);
            group.finished[parity].set(0);
        }
        group.headers[parity][rank] = mine;
        group.buffers[parity][rank] = data;
        group.await(this, mine.op().label, seq + 1);
        return group.headers[parity].clone();
    }

    private MemorySegment[] peers() {
        return group.buffers[parity];
    }

    private void done(String collective) {
        group.await(this, collective, seq);
    }

    // ---- data movement -----------------------------------------------------------------------------------

    /** Floats per unit of all-reduce work (64 KiB). */
    private static final long BLOCK = 16_384;

    @Override
    protected void allReduceData(MemorySegment data) {
        int n = group.size;
        if (n == 1) {
            return;
        }
        MemorySegment[] bufs = peers().clone();
        long count = data.byteSize() / Float.BYTES;
        long blocks = (count + BLOCK - 1) / BLOCK;
        AtomicLong cursor = group.cursors[parity];
        AtomicLong finished = group.finished[parity];
        for (long b = cursor.getAndIncrement(); b < blocks; b = cursor.getAndIncrement()) {
            long lo = b * BLOCK;
            FloatOps.sumToAll(bufs, lo * Float.BYTES, Math.min(BLOCK, count - lo));
            if (finished.incrementAndGet() == blocks) {
                group.wakeAll();
            }
        }
        // once every block is summed no rank reads a buffer of this collective again: leave without a barrier
        group.awaitWork(this, "allReduce", finished, blocks);
    }

    @Override
    protected void allGatherData(MemorySegment local, int[] localShape, int dim, MemorySegment out) {
        int n = group.size;
        MemorySegment[] bufs = peers();
        long outer = Collective.outer(localShape, dim);
        long run = localShape[dim] * Collective.inner(localShape, dim);
        for (int k = 0; k < n; k++) {
            int j = (rank + k) % n;
            FloatOps.copyBlocks(bufs[j], 0, run, out, j * run, n * run, outer, run);
        }
        done("allGather");
    }

    @Override
    protected void reduceScatterData(MemorySegment full, int[] fullShape, int dim, MemorySegment out) {
        int n = group.size;
        MemorySegment[] bufs = peers().clone();
        long outer = Collective.outer(fullShape, dim);
        long inner = Collective.inner(fullShape, dim);
        long run = (fullShape[dim] / n) * inner;
        long stride = fullShape[dim] * inner;
        if (n == 1) {
            MemorySegment.copy(full, 0, out, 0, full.byteSize());
        } else {
            for (long o = 0; o < outer; o++) {
                FloatOps.sum(bufs, (o * stride + rank * run) * Float.BYTES, out, o * run * Float.BYTES, run);
            }
        }
        done("reduceScatter");
    }

    @Override
    protected void broadcastData(MemorySegment data, int root) {
        if (group.size == 1) {
            return;
        }
        if (rank != root) {
            MemorySegment.copy(peers()[root], 0, data, 0, data.byteSize());
        }
        done("broadcast");
    }

    @Override
    protected void allToAllData(MemorySegment local, int[] localShape, int splitDim, int concatDim,
                                MemorySegment out, int[] outShape) {
        int n = group.size;
        MemorySegment[] bufs = peers();
        for (int k = 0; k < n; k++) {
            int j = (rank + k) % n;
            FloatOps.copyPart(bufs[j], localShape, splitDim, rank, n, out, outShape, concatDim, j, n);
        }
        done("allToAll");
    }

    @Override
    protected void barrierData() {
        // the exchange was the barrier
    }

    @Override
    protected Communicator splitData(int[] members, int color, int key) {
        int[] worldRanks = worldRanksOf(members);
        List<Long> splitKey = List.of(seq, (long) color);
        SharedGroup.PendingSplit pending = group.splits.computeIfAbsent(splitKey,
                k -> new SharedGroup.PendingSplit(group.world.newGroup(worldRanks), new AtomicInteger(worldRanks.length)));
        if (pending.remaining().decrementAndGet() == 0) {
            group.splits.remove(splitKey);
        }
        return new ThreadCommunicator(pending.group(), rankAmong(members));
    }
}

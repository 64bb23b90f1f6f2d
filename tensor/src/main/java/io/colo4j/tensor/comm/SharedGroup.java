package io.colo4j.tensor.comm;

import io.colo4j.tensor.comm.Collective.Header;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The memory the ranks of one in-JVM group share: per-rank slots where each rank publishes its header and
 * buffer for the current collective, and a barrier that spins briefly, then parks, and fails (never hangs)
 * when the world is aborted, a missing rank has finished, or the timeout passes.
 *
 * <p>Slots are double-buffered by collective parity: a rank that leaves collective c early can publish for
 * c+1 while slower ranks still read c's slots, and it cannot get to c+2 before they too arrive at c+1.
 */
final class SharedGroup {
    final ThreadWorld world;
    final int size;
    /** Group rank to world rank. */
    final int[] worldRanks;
    final Header[][] headers;
    final MemorySegment[][] buffers;
    /** Next unit of shared work (all-reduce blocks), per collective parity; reset by rank 0 on entry. */
    final AtomicLong[] cursors = {new AtomicLong(), new AtomicLong()};
    /** Units of shared work done, per collective parity; reset by rank 0 on entry. */
    final AtomicLong[] finished = {new AtomicLong(), new AtomicLong()};
    /** Sub-groups being created by a split, keyed by split sequence number and color. */
    final ConcurrentHashMap<List<Long>, PendingSplit> splits = new ConcurrentHashMap<>();

    private final AtomicInteger count = new AtomicInteger();
    private volatile long generation;
    private final AtomicLongArray arrived;
    private final long[] epoch;
    private final AtomicReferenceArray<Thread> parked;
    private final long spinNanos;

    SharedGroup(ThreadWorld world, int[] worldRanks) {
        this.world = world;
        this.size = worldRanks.length;
        this.worldRanks = worldRanks;
        this.headers = new Header[2][size];
        this.buffers = new MemorySegment[2][size];
        this.arrived = new AtomicLongArray(size);
        this.epoch = new long[size];
        this.parked = new AtomicReferenceArray<>(size);
        // Spinning only helps when every rank can have a core; oversubscribed ranks yield and park at once.
        this.spinNanos = size <= Runtime.getRuntime().availableProcessors() ? 50_000 : 0;
    }

    /** A sub-group under construction; the last member to pick it up removes it from {@link #splits}. */
    record PendingSplit(SharedGroup group, AtomicInteger remaining) {}

    boolean isWorld() {
        return this == world.worldGroup();
    }

    /**
     * Waits until every rank of the group has called it the same number of times. Everything a rank wrote
     * before arriving is visible to every rank after it returns.
     */
    void await(ThreadCommunicator c, String collective, long number) {
        int rank = c.rank();
        world.checkAlive(c, collective);
        long target = ++epoch[rank];
        arrived.set(rank, target);
        if (count.incrementAndGet() == size) {
            count.set(0);
            generation = target;
            wakeAll();
            return;
        }
        if (!spinUntil(() -> generation >= target)) {
            parkUntil(c, collective, () -> generation >= target, () -> missing(target), collective + " (#" + number + ")");
        }
    }

    /**
     * Waits until {@code total} units of the current collective's shared work are done, whichever ranks did them;
     * the rank that finishes the last unit calls {@link #wakeAll()}. An all-reduce ends here instead of in a second
     * barrier: a rank that did the last block leaves at once rather than waiting for the others to wake up and
     * arrive (in GPT-2 mini at tp 2 on a 2-vCPU VM, that second barrier held each rank ~0.8 ms per all-reduce).
     */
    void awaitWork(ThreadCommunicator c, String collective, AtomicLong done, long total) {
        if (done.get() >= total || spinUntil(() -> done.get() >= total)) {
            return;
        }
        parkUntil(c, collective, () -> done.get() >= total, List::of, collective + " (the shared work: "
                + done.get() + " of " + total + " blocks done)");
    }

    /** Spins briefly (when every rank can have a core), then yields a few times; true once {@code ready}. */
    private boolean spinUntil(BooleanSupplier ready) {
        if (spinNanos > 0) {
            long spinEnd = System.nanoTime() + spinNanos;
            int i = 0;
            while (!ready.getAsBoolean()) {
                if ((++i & 63) == 0) {
                    if (world.failed()) {
                        break;
                    }
                    if (System.nanoTime() > spinEnd) {
                        break;
                    }
                }
                Thread.onSpinWait();
            }
        }
        for (int y = 0; y < 4 && !ready.getAsBoolean(); y++) {
            Thread.yield();
        }
        return ready.getAsBoolean();
    }

    /**
     * Parks until {@code ready}; fails instead if the world is aborted, a rank of {@code missing} has finished, the
     * timeout passes or the thread is interrupted.
     */
    private void parkUntil(ThreadCommunicator c, String collective, BooleanSupplier ready, Supplier<List<Integer>> missing,
                           String label) {
        int rank = c.rank();
        long timeout = world.timeoutNanos();
        long deadline = System.nanoTime() + timeout;
        parked.set(rank, Thread.currentThread());
        try {
            while (!ready.getAsBoolean()) {
                world.checkAlive(c, collective);
                List<Integer> absent = missing.get();
                for (int r : absent) {
                    if (world.hasFinished(worldRanks[r])) {
                        CommAbortedException e = new CommAbortedException(collective, rank, worldRanks[r],
                                "colo4j comm: " + label + " on " + c.where() + " cannot complete: " + c.describe(r)
                                        + " finished (its body returned or it closed its communicator) without joining it", null);
                        world.abort(c.worldRank(), e);
                        throw e;
                    }
                }
                long now = System.nanoTime();
                if (timeout > 0 && now - deadline >= 0) {
                    if (ready.getAsBoolean()) {
                        return;
                    }
                    List<String> names = new ArrayList<>();
                    for (int r : absent) {
                        names.add(c.describe(r));
                    }
                    CommTimeoutException e = new CommTimeoutException(collective, rank, absent,
                            "colo4j comm: " + label + " on " + c.where() + " timed out after " + ThreadWorld.seconds(timeout)
                                    + (names.isEmpty() ? "" : " waiting for " + String.join(", ", names))
                                    + " (timeout: system property colo4j.comm.timeout, seconds, or the ThreadWorld timeout)");
                    world.abort(c.worldRank(), e);
                    throw e;
                }
                LockSupport.parkNanos(this, timeout > 0 ? deadline - now : Long.MAX_VALUE);
                if (Thread.currentThread().isInterrupted()) {
                    CommException e = new CommException(collective, rank,
                            "colo4j comm: " + label + " on " + c.where() + " was interrupted"
                                    + (absent.isEmpty() ? "" : " while waiting for " + absent));
                    world.abort(c.worldRank(), e);
                    throw e;
                }
            }
        } finally {
            parked.set(rank, null);
        }
    }

    private List<Integer> missing(long target) {
        List<Integer> missing = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            if (arrived.get(r) < target) {
                missing.add(r);
            }
        }
        return missing;
    }

    /** Unparks every rank parked in this group's barrier (they re-check why they wait). */
    void wakeAll() {
        for (int r = 0; r < size; r++) {
            Thread t = parked.get(r);
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }
}

package io.colo4j.ops.kernel.cpu;

import io.colo4j.tensor.comm.ThreadWorld;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many threads the parallel loops started from outside the pool may run at once, so that R callers (in-JVM
 * tensor-parallel ranks are plain threads) share C cores instead of each bringing C - 1 pool workers of its own.
 * A caller always runs its own loop (it is a running thread already); a pool worker joins a loop only while fewer
 * than C threads are in loops, and leaves at its next chunk when callers that came later make them more than C; a
 * loop asks for at most its fair share, max(1, C / max(callers in a loop now, live in-JVM rank threads)), of threads
 * including its caller. So at most max(C, R) threads run loop bodies, but for a worker finishing the chunk it had when
 * a caller arrived. A rank thread counts even between its loops (in autograd's bookkeeping, or waiting at a
 * collective): it comes back within milliseconds, and a worker lent its core meanwhile then shares that core with it.
 * With 2 ranks on 2 cores, lending made the ranks reach their collectives further apart (median 0.77 ms against 0.43
 * without workers) and GPT-2 mini's tp 2 step ~15% slower.
 */
final class CoreBudget {
    private final int cores;
    private final AtomicInteger callers = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();

    CoreBudget(int cores) {
        this.cores = cores;
    }

    /**
     * A caller starts a loop and counts as running from now; returns its share of threads, itself included. Pair
     * with {@link #callerDone()}.
     */
    int callerStarts() {
        running.incrementAndGet();
        int active = callers.incrementAndGet();
        return Math.max(1, cores / Math.max(active, ThreadWorld.liveRankThreads()));
    }

    void callerDone() {
        callers.decrementAndGet();
        running.decrementAndGet();
    }

    /** More threads are in loops than there are cores: a worker should give its core back. */
    boolean oversubscribed() {
        return running.get() > cores;
    }

    /** A pool worker asks to run bodies; false when C threads already do. Pair a true with {@link #stopped()}. */
    boolean workerMayRun() {
        for (int now = running.get(); now < cores; now = running.get()) {
            if (running.compareAndSet(now, now + 1)) {
                return true;
            }
        }
        return false;
    }

    /** A worker stopped running bodies. */
    void stopped() {
        running.decrementAndGet();
    }
}

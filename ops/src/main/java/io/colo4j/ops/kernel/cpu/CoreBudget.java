package io.colo4j.ops.kernel.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many threads the parallel loops started from outside the pool may run at once, so that R callers (in-JVM
 * tensor-parallel ranks are plain threads) share C cores instead of each bringing C - 1 pool workers of its own.
 * A caller always runs its own loop (it is a running thread already); a pool worker joins a loop only while fewer
 * than C threads are in loops, and leaves at its next chunk when callers that came later make them more than C; a
 * loop asks for at most its fair share, max(1, C / callers in a loop now), of threads including its caller. So
 * at most max(C, R) threads run loop bodies, but for a worker finishing the chunk it had when a caller arrived.
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
        return Math.max(1, cores / active);
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

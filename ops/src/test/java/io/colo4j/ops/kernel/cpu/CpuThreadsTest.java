package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class CpuThreadsTest {
    /** Counts the threads inside a loop body at once (each body holds its thread about a millisecond). */
    private static final class Occupancy {
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger max = new AtomicInteger();

        void body(int from, int to) {
            max.accumulateAndGet(now.incrementAndGet(), Math::max);
            LockSupport.parkNanos(1_000_000L * (to - from));
            now.decrementAndGet();
        }
    }

    @Test
    void oneCallerUsesEveryCore() {
        assumeTrue(CpuThreads.threads() > 1, "one core");
        // a pool worker that wakes too late finds every chunk claimed (allowed: the caller does not wait for it); on a
        // 2-vCPU VM, with C2 compiling what the test before ran, that happened once in a 0.4 s loop. Up to five loops:
        // a pool that never helps fails them all, and none may run more threads than the pool has.
        int most = 0;
        for (int attempt = 0; attempt < 5 && most < 2; attempt++) {
            Occupancy o = new Occupancy();
            CpuThreads.parallelFor(400, 1, o::body);
            assertThat(o.max.get()).isLessThanOrEqualTo(CpuThreads.threads());
            most = Math.max(most, o.max.get());
        }
        assertThat(most).isBetween(2, CpuThreads.threads());
    }

    /**
     * Threads in loop bodies at once, counted once every caller is in its loop and no pool worker is in a chunk it may
     * have claimed before that: a worker checks the budget when it claims a chunk and gives its core back at its next
     * claim, not in the middle of one. So the chunk a worker was running when the last caller arrived, and the first
     * chunk it enters after that (claimed a moment earlier), are not counted; any later chunk is.
     */
    private static final class SettledOccupancy {
        final int callers;
        final Set<Thread> inBody = new HashSet<>();
        final Set<Thread> callersSeen = new HashSet<>();
        final Set<Thread> enteredSinceSettled = new HashSet<>();
        final Set<Thread> inPossiblyEarlyChunk = new HashSet<>();
        boolean settled;
        int max;
        int counted;

        SettledOccupancy(int callers) {
            this.callers = callers;
        }

        void body(int from, int to) {
            enter(Thread.currentThread());
            LockSupport.parkNanos(1_000_000L * (to - from));
            exit(Thread.currentThread());
        }

        private synchronized void enter(Thread me) {
            inBody.add(me);
            boolean caller = me.getName().startsWith("caller-");
            if (!settled && caller && callersSeen.add(me) && callersSeen.size() == callers) {
                settled = true;
                for (Thread t : inBody) {
                    if (!t.getName().startsWith("caller-")) {
                        inPossiblyEarlyChunk.add(t);
                        enteredSinceSettled.add(t);
                    }
                }
            } else if (settled && !caller && enteredSinceSettled.add(me)) {
                inPossiblyEarlyChunk.add(me);
            }
            if (settled && inPossiblyEarlyChunk.isEmpty()) {
                max = Math.max(max, inBody.size());
                counted++;
            }
        }

        private synchronized void exit(Thread me) {
            inBody.remove(me);
            inPossiblyEarlyChunk.remove(me);
        }

        synchronized int max() {
            return max;
        }

        synchronized int counted() {
            return counted;
        }
    }

    /**
     * With as many in-JVM ranks as cores, a rank's loop keeps to its own thread even while the other ranks are outside
     * their loops (waiting at a collective, in autograd's bookkeeping): a worker lent the core of a rank that comes back
     * would share that core with it. A world of one rank still uses every core.
     */
    @Test
    void aRankLeavesTheCoresOfRanksBetweenTheirLoopsAlone() {
        int cores = CpuThreads.threads();
        assumeTrue(cores > 1, "one core");
        Occupancy alone = new Occupancy();
        io.colo4j.tensor.comm.ThreadWorld.run(1, comm -> CpuThreads.parallelFor(400, 1, alone::body));
        assertThat(alone.max.get()).as("threads in the loop of a world's only rank").isBetween(2, cores);
        Occupancy shared = new Occupancy();
        java.util.concurrent.CountDownLatch looped = new java.util.concurrent.CountDownLatch(1);
        io.colo4j.tensor.comm.ThreadWorld.run(cores, comm -> {
            comm.barrier(); // every rank thread has started its body
            if (comm.rank() == 0) {
                CpuThreads.parallelFor(400, 1, shared::body);
                looped.countDown();
            } else {
                looped.await();
            }
        });
        assertThat(shared.max.get()).as("threads in rank 0's loop while %d other ranks wait", cores - 1).isEqualTo(1);
    }

    @Test
    void concurrentCallersShareTheCoresInsteadOfEachBringingWorkers() throws Exception {
        int cores = CpuThreads.threads();
        // a worker is only in a loop when the first caller starts alone, so repeat to catch an unbudgeted one often
        for (int callers : new int[] {2, cores + 1, 2, cores + 1, 2, cores + 1}) {
            SettledOccupancy o = new SettledOccupancy(callers);
            runTogether(callers, () -> CpuThreads.parallelFor(200, 1, o::body));
            assertThat(o.counted()).as("bodies counted").isPositive();
            assertThat(o.max()).as("threads in loop bodies at once, %d callers on %d cores", callers, cores)
                    .isLessThanOrEqualTo(Math.max(cores, callers));
        }
    }

    @Test
    void aFailingBodyReachesTheCallerAndGivesTheCoresBack() {
        Occupancy o = new Occupancy();
        for (int i = 0; i < 3; i++) {
            try {
                CpuThreads.parallelFor(64, 1, (from, to) -> {
                    throw new IllegalStateException("boom at " + from);
                });
            } catch (IllegalStateException expected) {
                assertThat(expected).hasMessageStartingWith("boom at");
            }
        }
        // a slot the failed loops kept would leave the next loop fewer threads than cores
        CpuThreads.parallelFor(200, 1, o::body);
        assertThat(o.max.get()).isEqualTo(CpuThreads.threads());
    }

    private static void runTogether(int callers, Runnable loop) throws Exception {
        CyclicBarrier start = new CyclicBarrier(callers);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < callers; i++) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    loop.run();
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "caller-" + i);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();
    }
}

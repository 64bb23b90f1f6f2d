package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
        Occupancy o = new Occupancy();
        CpuThreads.parallelFor(400, 1, o::body);
        assertThat(o.max.get()).isBetween(2, CpuThreads.threads());
    }

    /**
     * Threads in loop bodies at once, counted once every caller is in its loop and every pool worker that was in a
     * body then has finished that body (a worker gives its core back at its next chunk, not in the middle of one).
     */
    private static final class SettledOccupancy {
        final int callers;
        final Set<Thread> inBody = ConcurrentHashMap.newKeySet();
        final Set<Thread> callersSeen = ConcurrentHashMap.newKeySet();
        volatile Set<Thread> stale;
        final AtomicInteger max = new AtomicInteger();
        final AtomicInteger counted = new AtomicInteger();

        SettledOccupancy(int callers) {
            this.callers = callers;
        }

        void body(int from, int to) {
            Thread me = Thread.currentThread();
            inBody.add(me);
            if (me.getName().startsWith("caller-") && callersSeen.add(me) && callersSeen.size() == callers) {
                Set<Thread> workers = new HashSet<>(inBody);
                workers.removeIf(t -> t.getName().startsWith("caller-"));
                stale = workers;
            }
            Set<Thread> s = stale;
            if (s != null && s.stream().noneMatch(inBody::contains)) {
                max.accumulateAndGet(inBody.size(), Math::max);
                counted.incrementAndGet();
            }
            LockSupport.parkNanos(1_000_000L * (to - from));
            inBody.remove(me);
        }
    }

    @Test
    void concurrentCallersShareTheCoresInsteadOfEachBringingWorkers() throws Exception {
        int cores = CpuThreads.threads();
        for (int callers : new int[] {2, cores + 1}) {
            SettledOccupancy o = new SettledOccupancy(callers);
            runTogether(callers, () -> CpuThreads.parallelFor(200, 1, o::body));
            assertThat(o.counted.get()).as("bodies counted").isPositive();
            assertThat(o.max.get()).as("threads in loop bodies at once, %d callers on %d cores", callers, cores)
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

package io.colo4j.ops.kernel.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one fork/join pool every CPU kernel runs on: as many daemon threads ({@code colo4j-cpu-N}) as available
 * processors, or the system property {@code colo4j.threads}. Callers from several threads at once (tensor-parallel
 * ranks are plain threads in one JVM) share it, so the machine is never oversubscribed by kernels.
 */
public final class CpuThreads {
    /** A body over the index range {@code [from, to)}. */
    @FunctionalInterface
    public interface IntRangeBody {
        void run(int from, int to);
    }

    private static final ForkJoinPool POOL = createPool();

    private CpuThreads() {}

    /** The shared pool. */
    public static ForkJoinPool pool() {
        return POOL;
    }

    /** The pool's parallelism. */
    public static int threads() {
        return POOL.getParallelism();
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into ranges of at most {@code grain} indices (at least one index
     * per range) on the pool, and returns when all are done. Runs inline when {@code n <= grain} or the pool has one
     * thread. Safe to call from inside a pool task (the caller's worker forks and helps rather than blocking) and from
     * any number of threads at once. The first exception thrown by the body is rethrown.
     */
    public static void parallelFor(int n, int grain, IntRangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        if (n <= g || POOL.getParallelism() == 1) {
            body.run(0, n);
            return;
        }
        RangeTask task = new RangeTask(body, 0, n, g);
        if (Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL) {
            task.invoke(); // forks stay in this pool; joins help instead of blocking
        } else {
            POOL.invoke(task);
        }
    }

    private static ForkJoinPool createPool() {
        int n = Runtime.getRuntime().availableProcessors();
        String prop = System.getProperty("colo4j.threads");
        if (prop != null && !prop.isBlank()) {
            try {
                n = Integer.parseInt(prop.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("colo4j.threads must be a positive integer, got '" + prop + "'", e);
            }
            if (n < 1) {
                throw new IllegalArgumentException("colo4j.threads must be a positive integer, got '" + prop + "'");
            }
        }
        AtomicInteger ids = new AtomicInteger();
        ForkJoinPool.ForkJoinWorkerThreadFactory factory = pool -> {
            ForkJoinWorkerThread t = new ForkJoinWorkerThread(pool) { };
            t.setName("colo4j-cpu-" + ids.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
        return new ForkJoinPool(n, factory, null, false);
    }

    private static final class RangeTask extends RecursiveAction {
        private final transient IntRangeBody body;
        private final int from;
        private final int to;
        private final int grain;

        RangeTask(IntRangeBody body, int from, int to, int grain) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                body.run(from, to);
                return;
            }
            int mid = (from + to) >>> 1;
            ForkJoinTask.invokeAll(new RangeTask(body, from, mid, grain), new RangeTask(body, mid, to, grain));
        }
    }
}

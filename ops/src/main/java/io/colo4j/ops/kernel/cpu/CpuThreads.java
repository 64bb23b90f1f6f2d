package io.colo4j.ops.kernel.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The one fork/join pool every CPU kernel runs on: as many daemon threads ({@code colo4j-cpu-N}) as available
 * processors, or the system property {@code colo4j.threads}. Callers from several threads at once (tensor-parallel
 * ranks are plain threads in one JVM) share it and its cores: a {@link CoreBudget} lets R concurrent callers keep
 * at most max(threads(), R) threads busy.
 */
public final class CpuThreads {
    /** A body over the index range {@code [from, to)}. */
    @FunctionalInterface
    public interface IntRangeBody {
        void run(int from, int to);
    }

    private static final ForkJoinPool POOL = createPool();
    private static final CoreBudget BUDGET = new CoreBudget(POOL.getParallelism());

    static {
        // the tensor module's gradient accumulation, scaling and copies run on this pool too
        io.colo4j.tensor.HostLoops.install((n, grain, body) -> parallelFor(n, grain, body::run));
    }

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
     * Runs {@code body} over disjoint ranges covering {@code [0, n)} in parallel and returns when all are done. Ranges
     * are {@code max(grain, n / (4 * threads()))} long (the last may be shorter): {@code grain} is the least work worth
     * a task. Runs inline, as one range, when {@code n <= grain} or the pool has one thread.
     *
     * <p>From a thread outside the pool, the calling thread runs ranges itself next to pool workers, at most its
     * share of the cores ({@link CoreBudget}: max(1, threads() / loops running now) threads, itself included, and
     * no worker while threads() threads already run loop bodies). From inside a pool task it forks in the same pool and helps while joining, so nested calls
     * neither deadlock nor block a worker. Safe from any number of threads at once. The first exception thrown by
     * the body is rethrown once every range has finished or been skipped.
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
        if (Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL) {
            // forks stay in this pool; joins help instead of blocking
            new RangeTask(body, 0, n, chunkSize(n, g)).invoke();
            return;
        }
        new Team(body, n, chunkSize(n, g)).runAsCaller();
    }

    /** About 4 ranges per thread for balance, none shorter than the grain. */
    private static int chunkSize(int n, int grain) {
        int p = POOL.getParallelism();
        return Math.max(grain, (int) ((n + 4L * p - 1) / (4L * p)));
    }

    /**
     * A parallel loop started from outside the pool. The index range is cut into chunks that participants claim one
     * at a time: the calling thread, which starts at once, and up to parallelism - 1 pool tasks, so one call never
     * has more threads running than the pool has workers. A pool worker that wakes up late (parked threads on a VM
     * can take 100s of microseconds) finds the chunks already claimed and leaves; the caller never waits for a task
     * that has not started, only for chunks that are running.
     */
    private static final class Team implements Runnable {
        private final IntRangeBody body;
        private final int n;
        private final int chunk;
        private final int chunks;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger pending;
        private final Thread caller = Thread.currentThread();
        private volatile Throwable failure;

        Team(IntRangeBody body, int n, int chunk) {
            this.body = body;
            this.n = n;
            this.chunk = chunk;
            this.chunks = (int) ((n + (long) chunk - 1) / chunk);
            this.pending = new AtomicInteger(chunks);
        }

        void runAsCaller() {
            int share = BUDGET.callerStarts();
            try {
                int helpers = Math.min(share - 1, chunks - 1);
                for (int i = 0; i < helpers; i++) {
                    POOL.execute(this);
                }
                work(false);
            } finally {
                BUDGET.callerDone();
            }
            // wait for chunks still running on pool threads: spin briefly, then park
            long spinUntil = System.nanoTime() + 50_000;
            while (pending.get() > 0) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            Throwable f = failure;
            if (f instanceof RuntimeException e) {
                throw e;
            }
            if (f instanceof Error e) {
                throw e;
            }
            if (f != null) {
                throw new IllegalStateException(f);
            }
        }

        /** A pool task's part: claim chunks until none are left, if the cores are not all busy already. */
        @Override
        public void run() {
            if (next.get() >= chunks || !BUDGET.workerMayRun()) {
                return;
            }
            try {
                work(true);
            } finally {
                BUDGET.stopped();
            }
        }

        /** Claims chunks until none are left; a worker also stops when callers that came later need its core. */
        private void work(boolean worker) {
            for (int i; (!worker || !BUDGET.oversubscribed()) && (i = next.getAndIncrement()) < chunks; ) {
                int from = i * chunk;
                int to = (int) Math.min(n, (long) from + chunk);
                try {
                    if (failure == null) {
                        body.run(from, to);
                    }
                } catch (Throwable e) {
                    synchronized (this) {
                        if (failure == null) {
                            failure = e;
                        } else if (failure != e) {
                            failure.addSuppressed(e);
                        }
                    }
                } finally {
                    if (pending.decrementAndGet() == 0 && Thread.currentThread() != caller) {
                        LockSupport.unpark(caller);
                    }
                }
            }
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

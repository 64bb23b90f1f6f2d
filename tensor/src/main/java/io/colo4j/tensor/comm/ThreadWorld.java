package io.colo4j.tensor.comm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A world of in-JVM ranks: {@code size} threads that talk through shared memory with
 * {@link ThreadCommunicator}s. The usual entry points run a body on fresh rank threads and return or
 * rethrow:
 *
 * <pre>{@code
 * List<Float> sums = ThreadWorld.call(4, comm -> {
 *     Tensor t = Tensor.full(comm.rank(), 8);
 *     comm.allReduce(t);
 *     return t.get(0);
 * });
 * }</pre>
 *
 * <p><b>Failure.</b> When a rank's body throws, the world is aborted at once: every rank waiting in (or later
 * entering) a collective throws a {@link CommAbortedException} naming the failed rank, and {@link #call}
 * rethrows the first failure as a {@link RankFailedException} carrying the rank number (other ranks'
 * exceptions attached as suppressed). A rank whose body returns while others wait for it in a collective
 * fails them at once too. A rank that never arrives (stuck elsewhere) fails the waiting ranks with a
 * {@link CommTimeoutException} naming it after {@link #timeout()}. Ranks still running 200 ms after the first
 * failure are interrupted; {@code call} returns after at most about 2 more seconds even if some never stop
 * (rank threads are daemons).
 *
 * <p>Communicators can also be driven from threads of your own: {@link #communicator(int)} per rank, then
 * {@link #abort} when a rank fails and {@link Communicator#close()} when a rank is done.
 */
public final class ThreadWorld {
    /** Rank threads of every ThreadWorld in this JVM whose bodies are running. */
    private static final AtomicInteger LIVE_RANK_THREADS = new AtomicInteger();

    /**
     * How many in-JVM rank threads are running their bodies now, in all worlds: the kernel pool shares the cores among
     * them ({@code CoreBudget}).
     */
    public static int liveRankThreads() {
        return LIVE_RANK_THREADS.get();
    }

    private final int size;
    private final Duration timeout;
    private final long timeoutNanos;
    private final SharedGroup worldGroup;
    private final ThreadCommunicator[] communicators;
    private final List<SharedGroup> groups = new CopyOnWriteArrayList<>();
    private final AtomicReference<Failure> failure = new AtomicReference<>();
    private final AtomicIntegerArray finished;
    private final AtomicBoolean started = new AtomicBoolean();

    /** The first failure: which world rank, and what it threw. */
    record Failure(int worldRank, Throwable cause) {}

    /** A world with the default timeout ({@link Communicators#defaultTimeout()}). */
    public ThreadWorld(int size) {
        this(size, Communicators.defaultTimeout());
    }

    /** A world whose collectives fail after {@code timeout} of waiting; zero or negative waits forever. */
    public ThreadWorld(int size, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("a ThreadWorld needs at least one rank, got " + size);
        }
        this.size = size;
        this.timeout = timeout;
        this.timeoutNanos = timeout.isNegative() || timeout.isZero() ? 0 : saturatedNanos(timeout);
        this.finished = new AtomicIntegerArray(size);
        int[] ranks = new int[size];
        for (int r = 0; r < size; r++) {
            ranks[r] = r;
        }
        this.worldGroup = newGroup(ranks);
        this.communicators = new ThreadCommunicator[size];
        for (int r = 0; r < size; r++) {
            communicators[r] = new ThreadCommunicator(worldGroup, r);
        }
    }

    public int size() {
        return size;
    }

    public Duration timeout() {
        return timeout;
    }

    /** The world communicator of rank {@code rank} (one instance per rank). */
    public ThreadCommunicator communicator(int rank) {
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " is not in this " + size + "-rank world");
        }
        return communicators[rank];
    }

    /**
     * Records that {@code rank} failed with {@code cause} (the first call wins) and makes every pending and
     * future collective of this world throw a {@link CommAbortedException} naming it.
     */
    public void abort(int rank, Throwable cause) {
        if (failure.compareAndSet(null, new Failure(rank, cause))) {
            wakeAll();
        }
    }

    /** True once some rank failed or the world was aborted. */
    public boolean failed() {
        return failure.get() != null;
    }

    // ---- running bodies -----------------------------------------------------------------------------------

    /** Runs {@code body} on {@code worldSize} fresh rank threads; see {@link #call(RankFunction)}. */
    public static <T> List<T> call(int worldSize, RankFunction<T> body) {
        return new ThreadWorld(worldSize).call(body);
    }

    public static <T> List<T> call(int worldSize, Duration timeout, RankFunction<T> body) {
        return new ThreadWorld(worldSize, timeout).call(body);
    }

    public static void run(int worldSize, RankBody body) {
        new ThreadWorld(worldSize).run(body);
    }

    public static void run(int worldSize, Duration timeout, RankBody body) {
        new ThreadWorld(worldSize, timeout).run(body);
    }

    public void run(RankBody body) {
        call(comm -> {
            body.run(comm);
            return null;
        });
    }

    /**
     * Runs {@code body} once per rank, each on its own new thread ({@code colo4j-rank-N}), and returns the
     * results in rank order (nulls allowed). A world runs one body only.
     *
     * @throws RankFailedException with the first failure and its rank
     */
    public <T> List<T> call(RankFunction<T> body) {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("a ThreadWorld runs one body; create a new one");
        }
        Object[] results = new Object[size];
        Throwable[] errors = new Throwable[size];
        CountDownLatch done = new CountDownLatch(size);
        Thread[] threads = new Thread[size];
        for (int r = 0; r < size; r++) {
            int rank = r;
            threads[r] = Thread.ofPlatform().name("colo4j-rank-" + r).daemon(true).unstarted(() -> {
                ThreadCommunicator comm = communicators[rank];
                LIVE_RANK_THREADS.incrementAndGet();
                try {
                    results[rank] = body.call(comm);
                    comm.close();
                } catch (Throwable t) {
                    errors[rank] = t;
                    abort(rank, t);
                } finally {
                    LIVE_RANK_THREADS.decrementAndGet();
                    io.colo4j.tensor.MemoryScope.releaseThreadCache();
                    done.countDown();
                }
            });
        }
        for (Thread t : threads) {
            t.start();
        }
        try {
            while (!done.await(50, TimeUnit.MILLISECONDS)) {
                if (failed()) {
                    if (!done.await(200, TimeUnit.MILLISECONDS)) {
                        for (Thread t : threads) {
                            t.interrupt();
                        }
                        done.await(2, TimeUnit.SECONDS);
                    }
                    break;
                }
            }
        } catch (InterruptedException e) {
            abort(-1, e);
            for (Thread t : threads) {
                t.interrupt();
            }
            Thread.currentThread().interrupt();
            throw new CommException("call", -1, "colo4j comm: interrupted while waiting for the ranks of a ThreadWorld", e);
        }
        Failure f = failure.get();
        if (f != null) {
            RankFailedException ex = new RankFailedException(f.worldRank(), size, f.cause());
            for (int r = 0; r < size; r++) {
                Throwable e = errors[r];
                if (e != null && e != f.cause()) {
                    ex.addSuppressed(e);
                }
            }
            throw ex;
        }
        List<T> out = new ArrayList<>(size);
        for (Object o : results) {
            @SuppressWarnings("unchecked")
            T t = (T) o;
            out.add(t);
        }
        return Collections.unmodifiableList(out);
    }

    // ---- internals used by the groups -----------------------------------------------------------------------

    SharedGroup worldGroup() {
        return worldGroup;
    }

    SharedGroup newGroup(int[] worldRanks) {
        SharedGroup g = new SharedGroup(this, worldRanks);
        groups.add(g);
        return g;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    void markFinished(int worldRank) {
        finished.set(worldRank, 1);
        wakeAll();
    }

    boolean hasFinished(int worldRank) {
        return finished.get(worldRank) != 0;
    }

    /** Throws the abort exception for {@code c} when the world has failed. */
    void checkAlive(ThreadCommunicator c, String collective) {
        Failure f = failure.get();
        if (f != null) {
            throw aborted(c, collective, f);
        }
    }

    private CommAbortedException aborted(ThreadCommunicator c, String collective, Failure f) {
        String who = f.worldRank() < 0 ? "the world was aborted" : "world rank " + f.worldRank() + " failed";
        if (c.worldRank() == f.worldRank()) {
            who = "this rank failed earlier";
        }
        Throwable cause = f.cause();
        String what = cause instanceof CommException ? cause.getMessage() : String.valueOf(cause);
        return new CommAbortedException(collective, c.rank(), f.worldRank(),
                "colo4j comm: " + collective + " on " + c.where() + " cannot complete: " + who + ": " + what, cause);
    }

    private void wakeAll() {
        for (SharedGroup g : groups) {
            g.wakeAll();
        }
    }

    static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3g s", nanos / 1e9);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }
}

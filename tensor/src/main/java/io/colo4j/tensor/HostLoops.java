package io.colo4j.tensor;

/**
 * How the tensor module's own loops over host memory (gradient accumulation, scaling, contiguous copies) use the
 * cores: through the runner the kernel module installs (ops' {@code CpuThreads} installs its pool when it loads, so
 * these loops share the kernels' cores and their budget between ranks), serially until then. The loops are
 * elementwise, so how they are split never changes a bit.
 */
public final class HostLoops {
    /** Runs a body over disjoint ranges covering [0, n), ranges at least {@code grain} long, and returns when all are done. */
    @FunctionalInterface
    public interface Runner {
        void parallelFor(int n, int grain, Body body);
    }

    /** A body over the range {@code [from, to)}. */
    @FunctionalInterface
    public interface Body {
        void run(int from, int to);
    }

    /** Floats per range: below two of them a loop runs on the calling thread alone. */
    static final int CHUNK = 1 << 16;

    private static volatile Runner runner = (n, grain, body) -> body.run(0, n);
    /** An unstarted thread: a segment it may access is usable from the pool's threads too (i.e. not confined). */
    private static final Thread PROBE = new Thread(() -> { }, "colo4j-hostloops-probe");

    private HostLoops() {}

    /** Installs the runner every later loop uses. */
    public static void install(Runner r) {
        runner = java.util.Objects.requireNonNull(r, "runner");
    }

    /** A body over float ranges {@code [from, to)} of {@code [0, n)}. */
    @FunctionalInterface
    interface FloatRange {
        void run(long from, long to);
    }

    /** Runs {@code body} over [0, n) floats in ranges of {@link #CHUNK}, in parallel where there are several and no segment it touches is thread-confined. */
    static void forFloats(long n, FloatRange body, java.lang.foreign.MemorySegment... touched) {
        if (n < 2L * CHUNK || !sharedAll(touched)) {
            body.run(0, n);
            return;
        }
        int chunks = Math.toIntExact((n + CHUNK - 1) / CHUNK);
        runner.parallelFor(chunks, 1, (from, to) -> body.run((long) from * CHUNK, Math.min(n, (long) to * CHUNK)));
    }

    private static boolean sharedAll(java.lang.foreign.MemorySegment[] touched) {
        for (java.lang.foreign.MemorySegment m : touched) {
            if (!m.isAccessibleBy(PROBE)) {
                return false; // a thread-confined segment: only the calling thread may touch it
            }
        }
        return true;
    }
}

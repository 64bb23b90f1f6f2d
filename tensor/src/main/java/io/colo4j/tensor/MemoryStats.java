package io.colo4j.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Off-heap bytes of tensor memory in this JVM, for memory reports and benchmarks: live (held by tensors now)
 * and reserved (taken from the OS: live long-lived memory plus the step pools' chunks, which step scopes reuse),
 * each with its peak. Reserved is at least live whenever no step scope is open on another thread's pool.
 */
public final class MemoryStats {
    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();
    private static final AtomicLong RESERVED = new AtomicLong();
    private static final AtomicLong PEAK_RESERVED = new AtomicLong();
    // step-scoped bytes (MemoryScope.open): a step's activations and backward temporaries, apart from parameters and grads
    private static final AtomicLong STEP_LIVE = new AtomicLong();
    private static final AtomicLong STEP_PEAK = new AtomicLong();

    private MemoryStats() {}

    static void allocated(long bytes) {
        long live = LIVE.addAndGet(bytes);
        PEAK.accumulateAndGet(live, Math::max);
    }

    static void freed(long bytes) {
        LIVE.addAndGet(-bytes);
    }

    /** {@code bytes} taken (positive) or given back (negative) by a step scope; counted in live bytes as well. */
    static void stepScoped(long bytes) {
        long live = STEP_LIVE.addAndGet(bytes);
        STEP_PEAK.accumulateAndGet(live, Math::max);
    }

    /** Bytes held now by open step scopes (all threads: in-JVM ranks share the count). */
    public static long stepLiveBytes() {
        return STEP_LIVE.get();
    }

    /** The most bytes open step scopes held at once since {@link #resetStepPeak()}: a step's peak activation memory. */
    public static long stepPeakBytes() {
        return STEP_PEAK.get();
    }

    /** Starts a new step peak from what step scopes hold now. */
    public static void resetStepPeak() {
        STEP_PEAK.set(STEP_LIVE.get());
    }

    /** {@code bytes} taken from (positive) or given back to (negative) the OS. */
    static void reserved(long bytes) {
        long reserved = RESERVED.addAndGet(bytes);
        PEAK_RESERVED.accumulateAndGet(reserved, Math::max);
    }

    public static long liveBytes() {
        return LIVE.get();
    }

    public static long peakBytes() {
        return PEAK.get();
    }

    public static long reservedBytes() {
        return RESERVED.get();
    }

    public static long peakReservedBytes() {
        return PEAK_RESERVED.get();
    }

    /** One line for progress output: live and reserved bytes, each with its peak, over {@code ranks} (in-JVM ranks share the counts). */
    public static String summary(int ranks) {
        String per = ranks > 1 ? " per rank (of " + ranks + " in this JVM)" : "";
        return String.format(java.util.Locale.ROOT, "tensor memory%s: live %.1f MiB (peak %.1f), reserved %.1f MiB (peak %.1f)",
                per, mib(liveBytes(), ranks), mib(peakBytes(), ranks), mib(reservedBytes(), ranks), mib(peakReservedBytes(), ranks));
    }

    private static double mib(long bytes, int ranks) {
        return bytes / 1048576.0 / Math.max(ranks, 1);
    }

    /** Starts a new peak measurement (live and reserved) from what is held now. */
    public static void resetPeak() {
        PEAK.set(LIVE.get());
        PEAK_RESERVED.set(RESERVED.get());
    }
}

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
    /** This thread's (rank's) live step-scoped bytes, their peak and the count of step blocks: {@code [live, peak, blocks]}. */
    private static final ThreadLocal<long[]> STEP = ThreadLocal.withInitial(() -> new long[3]);

    private MemoryStats() {}

    static void allocated(long bytes) {
        long live = LIVE.addAndGet(bytes);
        PEAK.accumulateAndGet(live, Math::max);
    }

    static void freed(long bytes) {
        LIVE.addAndGet(-bytes);
    }

    /** Step-scoped ({@link MemoryScope#open()}) bytes handed out on this thread; returns the block's serial number. */
    static long stepAllocated(long bytes) {
        long[] step = STEP.get();
        step[0] += bytes;
        step[1] = Math.max(step[1], step[0]);
        return step[2]++;
    }

    /** Step blocks handed out on this thread so far. */
    static long stepAllocations() {
        return STEP.get()[2];
    }

    /** Step-scoped bytes given back on this thread (a step scope closed, or a block was released early). */
    static void stepFreed(long bytes) {
        STEP.get()[0] -= bytes;
    }

    /**
     * Bytes of step-scoped memory (activations, intermediate gradients, temporaries: what a training step frees when
     * its scope closes) this thread holds now. Per thread, so per rank for in-JVM ranks.
     */
    public static long stepLiveBytes() {
        return STEP.get()[0];
    }

    /** The most {@link #stepLiveBytes()} this thread held since {@link #resetStepPeak()}: a step's activation peak. */
    public static long stepPeakBytes() {
        return STEP.get()[1];
    }

    /** Starts this thread's step peak again from what it holds now (call before a step). */
    public static void resetStepPeak() {
        long[] step = STEP.get();
        step[1] = step[0];
        StepCensus.resetPeak();
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

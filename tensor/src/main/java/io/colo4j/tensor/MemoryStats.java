package io.colo4j.tensor;

import java.util.concurrent.atomic.AtomicLong;

/** Live and peak off-heap bytes held by tensors in this JVM, for memory reports and benchmarks. */
public final class MemoryStats {
    private static final AtomicLong LIVE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();

    private MemoryStats() {}

    static void allocated(long bytes) {
        long live = LIVE.addAndGet(bytes);
        PEAK.accumulateAndGet(live, Math::max);
    }

    static void freed(long bytes) {
        LIVE.addAndGet(-bytes);
    }

    public static long liveBytes() {
        return LIVE.get();
    }

    public static long peakBytes() {
        return PEAK.get();
    }

    /** Starts a new peak measurement from what is live now. */
    public static void resetPeak() {
        PEAK.set(LIVE.get());
    }
}

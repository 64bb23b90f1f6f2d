package io.colo4j.tensor;

/** For tests that compare the JVM-wide {@link MemoryStats}: first let earlier tests' dropped storage be cleaned. */
final class SettledMemory {
    private SettledMemory() {}

    /** Runs the GC until live and reserved bytes stop changing (their cleaners run after it), or about a second. */
    static void settle() {
        long live = -1;
        long reserved = -1;
        for (int i = 0; i < 50; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (MemoryStats.liveBytes() == live && MemoryStats.reservedBytes() == reserved) {
                return;
            }
            live = MemoryStats.liveBytes();
            reserved = MemoryStats.reservedBytes();
        }
    }
}

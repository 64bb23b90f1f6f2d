package io.colo4j.tensor;

/**
 * A step scope whose reused memory holds NaN, for tests that an output allocated with {@link Tensor#empty} is
 * written in full: any element a kernel leaves alone reads back as NaN instead of a lucky zero.
 */
public final class PoisonedScope {
    private PoisonedScope() {}

    /** Fills the first {@code bytes} of this thread's step pool with NaN, then opens a scope over them. */
    public static MemoryScope open(long bytes) {
        try (MemoryScope poison = MemoryScope.open()) {
            // 64-byte blocks tile the pool's chunks exactly (every chunk is a multiple of 64 bytes)
            for (long b = 0; b < bytes; b += 64) {
                Tensor.empty(16).fill(Float.NaN);
            }
        }
        return MemoryScope.open();
    }
}

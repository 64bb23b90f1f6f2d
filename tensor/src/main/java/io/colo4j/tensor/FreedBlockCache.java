package io.colo4j.tensor;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Long-lived blocks that were freed, kept by exact size for the next allocation of that size: a training step
 * frees its parameters' gradients ({@code zeroGrad}) and backward allocates the same sizes again, so with this
 * cache they come back already mapped instead of being returned to the OS and faulted in anew every step.
 *
 * <p>It holds at most as many bytes as tensors hold live (and at least {@link #FLOOR}), so a run that frees for
 * good gives memory back. Shared by all threads (long-lived storage may be freed by a cleaner thread).
 */
final class FreedBlockCache {
    private static final long FLOOR = 64L << 20;
    private static final Map<Long, ArrayDeque<NativeHeap.Block>> FREE = new HashMap<>();
    private static long cachedBytes;

    private FreedBlockCache() {}

    /** A block of {@code bytes}: a cached one (zero-filled again when asked) or a fresh, zeroed one. */
    static NativeHeap.Block take(long bytes, boolean zeroed) {
        NativeHeap.Block block = cached(bytes);
        if (block == null) {
            MemoryStats.reserved(bytes);
            return NativeHeap.allocateZeroed(bytes, StepMemoryPool.ALIGNMENT);
        }
        if (zeroed) {
            block.memory().fill((byte) 0);
        }
        return block;
    }

    private static synchronized NativeHeap.Block cached(long bytes) {
        ArrayDeque<NativeHeap.Block> free = FREE.get(bytes);
        NativeHeap.Block block = free == null ? null : free.poll();
        if (block != null) {
            cachedBytes -= bytes;
        }
        return block;
    }

    /** Takes back a block no view can reach any more (its arena is closed). */
    static void give(NativeHeap.Block block) {
        long bytes = block.memory().byteSize();
        synchronized (FreedBlockCache.class) {
            if (cachedBytes + bytes <= Math.max(FLOOR, MemoryStats.liveBytes())) {
                FREE.computeIfAbsent(bytes, b -> new ArrayDeque<>()).push(block);
                cachedBytes += bytes;
                return;
            }
        }
        NativeHeap.free(block);
        MemoryStats.reserved(-bytes);
    }

    /** Bytes held for reuse. */
    static synchronized long cachedBytes() {
        return cachedBytes;
    }

    /** Returns every cached block to the C heap. */
    static void release() {
        java.util.List<NativeHeap.Block> all = new java.util.ArrayList<>();
        synchronized (FreedBlockCache.class) {
            FREE.values().forEach(all::addAll);
            FREE.clear();
            cachedBytes = 0;
        }
        for (NativeHeap.Block block : all) {
            NativeHeap.free(block);
            MemoryStats.reserved(-block.memory().byteSize());
        }
    }
}

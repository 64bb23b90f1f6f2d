package io.colo4j.tensor;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The byte ranges a step scope gave back to its {@link StepMemoryPool} before closing, for its later blocks:
 * neighbours merge into one range, and a request takes the smallest range that holds it (the lowest-placed among
 * equals, so placement stays a function of the step's allocations and frees: the same step lands on the same bytes).
 * A range is keyed by its position, chunk and offset packed in one long.
 */
final class FreeRanges {
    private static final int OFFSET_BITS = 44;
    private static final long OFFSET_MASK = (1L << OFFSET_BITS) - 1;

    /** Position to size. */
    private final TreeMap<Long, Long> byPosition = new TreeMap<>();
    /** Size to the positions of the ranges of that size. */
    private final TreeMap<Long, TreeSet<Long>> bySize = new TreeMap<>();

    static long position(int chunk, long offset) {
        return ((long) chunk << OFFSET_BITS) | offset;
    }

    static int chunk(long position) {
        return (int) (position >>> OFFSET_BITS);
    }

    static long offset(long position) {
        return position & OFFSET_MASK;
    }

    /** Adds a range, merged with the free ranges next to it in the same chunk. */
    void add(int chunk, long offset, long size) {
        if (size <= 0) {
            return;
        }
        long start = position(chunk, offset);
        long end = start + size;
        Map.Entry<Long, Long> before = byPosition.floorEntry(start);
        if (before != null && chunk(before.getKey()) == chunk && before.getKey() + before.getValue() == start) {
            remove(before.getKey(), before.getValue());
            start = before.getKey();
        }
        Long after = byPosition.get(end);
        if (after != null && chunk(end) == chunk) {
            remove(end, after);
            end += after;
        }
        byPosition.put(start, end - start);
        bySize.computeIfAbsent(end - start, k -> new TreeSet<>()).add(start);
    }

    /** Takes {@code size} bytes from the smallest range that holds them; the position, or -1 when none does. */
    long takeBestFit(long size) {
        Map.Entry<Long, TreeSet<Long>> fit = bySize.ceilingEntry(size);
        if (fit == null) {
            return -1;
        }
        long start = fit.getValue().first();
        long rangeSize = fit.getKey();
        remove(start, rangeSize);
        if (rangeSize > size) {
            byPosition.put(start + size, rangeSize - size);
            bySize.computeIfAbsent(rangeSize - size, k -> new TreeSet<>()).add(start + size);
        }
        return start;
    }

    /** Removes the range of {@code chunk} that ends at {@code offset}; its start offset, or -1 when there is none. */
    long removeEndingAt(int chunk, long offset) {
        Map.Entry<Long, Long> below = byPosition.lowerEntry(position(chunk, offset));
        if (below == null || chunk(below.getKey()) != chunk || below.getKey() + below.getValue() != position(chunk, offset)) {
            return -1;
        }
        remove(below.getKey(), below.getValue());
        return offset(below.getKey());
    }

    /** Bytes in free ranges. */
    long bytes() {
        long sum = 0;
        for (long size : byPosition.values()) {
            sum += size;
        }
        return sum;
    }

    private void remove(long start, long size) {
        byPosition.remove(start);
        TreeSet<Long> same = bySize.get(size);
        same.remove(start);
        if (same.isEmpty()) {
            bySize.remove(size);
        }
    }
}

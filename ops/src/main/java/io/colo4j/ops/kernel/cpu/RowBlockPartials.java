package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.S;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The per-row-block partial sums of a norm's weight gradients (layernorm's gamma and beta, rmsnorm's gamma), kept by
 * the calling thread from one call to the next: a [blocks][n] array per call was a few MB of fresh heap per backward
 * (3.2 MB at 4096 x 3072), which the garbage collector then paid for in page faults. The pool threads of one call
 * fill them; the caller waits for them, so one thread's sets are never used by two calls at once.
 *
 * <p>Off-heap and 64-byte aligned, block b's n floats at float index b * {@link #stride}: a heap array's data starts 16
 * bytes into the object, so every 64-byte vector read and written back per row split over two cache lines (a row's
 * read-add-write of two partials took ~1.3x the time of the aligned one).
 */
final class RowBlockPartials {
    private static final ThreadLocal<RowBlockPartials> LOCAL = ThreadLocal.withInitial(RowBlockPartials::new);
    private static final int ALIGN_FLOATS = 16;
    private final MemorySegment[] slots = {MemorySegment.NULL, MemorySegment.NULL};

    private RowBlockPartials() {}

    /** Floats from one block's partials to the next: n rounded up to 64 bytes, so every block starts aligned. */
    static long stride(int n) {
        return (n + ALIGN_FLOATS - 1L) / ALIGN_FLOATS * ALIGN_FLOATS;
    }

    /**
     * {@code blocks} blocks of {@link #stride}(n) floats for {@code slot} (0 or 1) of the calling thread, holding what
     * the last call left: a block zeroes its own before adding into it.
     */
    static MemorySegment of(int slot, int blocks, int n) {
        MemorySegment[] slots = LOCAL.get().slots;
        long bytes = blocks * stride(n) * Float.BYTES;
        if (slots[slot].byteSize() < bytes) {
            slots[slot] = Arena.ofAuto().allocate(bytes, ALIGN_FLOATS * Float.BYTES);
        }
        return slots[slot];
    }

    /** Zeroes the {@link #stride}(n) floats of the block at float index {@code base} (a multiple of the stride). */
    static void zero(MemorySegment partials, long base, int n) {
        jdk.incubator.vector.FloatVector zero = jdk.incubator.vector.FloatVector.zero(Vec.S);
        long end = base + stride(n);
        long i = base;
        for (; i + Vec.L <= end; i += Vec.L) {
            zero.intoMemorySegment(partials, i * Float.BYTES, Vec.ORDER);
        }
        for (; i < end; i++) {
            Vec.set(partials, i, 0f);
        }
    }
}

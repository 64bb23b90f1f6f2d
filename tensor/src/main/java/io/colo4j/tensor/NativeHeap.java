package io.colo4j.tensor;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Blocks from the C heap ({@code malloc}/{@code calloc}/{@code free}), for the tensor memory colo4j keeps for reuse.
 *
 * <p>Why not {@code Arena.allocate}: it zero-fills, which touches every page of a block at once; a large
 * {@code malloc} is mapped lazily, so the pages of a pool chunk that a step never reaches cost no memory and
 * no page faults.
 */
final class NativeHeap {
    private static final MethodHandle MALLOC;
    private static final MethodHandle CALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        MALLOC = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        CALLOC = linker.downcallHandle(linker.defaultLookup().find("calloc").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
        FREE = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ADDRESS));
    }

    private NativeHeap() {}

    /** {@code memory}: {@code bytes} starting at an {@code alignment}-byte boundary inside {@code raw}, which {@link #free} takes. */
    record Block(MemorySegment raw, MemorySegment memory) {}

    static Block allocate(long bytes, long alignment) {
        MemorySegment raw;
        try {
            raw = (MemorySegment) MALLOC.invokeExact(bytes + alignment);
        } catch (Throwable e) {
            throw new IllegalStateException("malloc of " + bytes + " bytes failed", e);
        }
        return aligned(raw, bytes, alignment);
    }

    /** As {@link #allocate}, zero-filled ({@code calloc}: fresh pages arrive zeroed, so it does not touch them). */
    static Block allocateZeroed(long bytes, long alignment) {
        MemorySegment raw;
        try {
            raw = (MemorySegment) CALLOC.invokeExact(1L, bytes + alignment);
        } catch (Throwable e) {
            throw new IllegalStateException("calloc of " + bytes + " bytes failed", e);
        }
        return aligned(raw, bytes, alignment);
    }

    private static Block aligned(MemorySegment raw, long bytes, long alignment) {
        if (raw.address() == 0) {
            throw new OutOfMemoryError("cannot reserve " + bytes + " bytes of off-heap tensor memory");
        }
        long aligned = (raw.address() + alignment - 1) & -alignment;
        return new Block(raw, MemorySegment.ofAddress(aligned).reinterpret(bytes));
    }

    static void free(Block block) {
        try {
            FREE.invokeExact(block.raw());
        } catch (Throwable e) {
            throw new IllegalStateException("free of a " + block.memory().byteSize() + "-byte block failed", e);
        }
    }
}

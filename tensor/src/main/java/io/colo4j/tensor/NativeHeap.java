package io.colo4j.tensor;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Uninitialised blocks from the C heap ({@code malloc}/{@code free}), for the memory the step pool keeps.
 *
 * <p>Why not {@code Arena.allocate}: it zero-fills, which touches every page of a block at once; a large
 * {@code malloc} is mapped lazily, so the pages of a pool chunk that a step never reaches cost no memory and
 * no page faults.
 */
final class NativeHeap {
    private static final MethodHandle MALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        MALLOC = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        FREE = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ADDRESS));
    }

    private NativeHeap() {}

    /** {@code bytes} of uninitialised memory starting at an {@code alignment}-byte boundary; free with {@link #free}. */
    record Block(MemorySegment raw, MemorySegment memory) {}

    static Block allocate(long bytes, long alignment) {
        MemorySegment raw;
        try {
            raw = (MemorySegment) MALLOC.invokeExact(bytes + alignment);
        } catch (Throwable e) {
            throw new IllegalStateException("malloc of " + bytes + " bytes failed", e);
        }
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

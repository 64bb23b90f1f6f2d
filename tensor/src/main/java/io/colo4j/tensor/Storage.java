package io.colo4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/** A flat block of float32 elements in off-heap memory that one or more tensor views share. */
public final class Storage {
    private final MemorySegment segment;
    private final long numel;
    private final Cleaner.Cleanable release;

    private Storage(MemorySegment segment, long numel, Cleaner.Cleanable release) {
        this.segment = segment;
        this.numel = numel;
        this.release = release;
    }

    /** Zero-filled storage from the calling thread's current {@link MemoryScope}. */
    public static Storage allocate(long numel) {
        MemoryScope.Allocation allocation = MemoryScope.allocateFloats(numel);
        return new Storage(allocation.segment(), numel, allocation.release());
    }

    /** Wraps memory owned elsewhere (a memory-mapped checkpoint, an MPI buffer); never freed by colo4j. */
    public static Storage wrap(MemorySegment segment) {
        if (segment.byteSize() % Float.BYTES != 0) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is not a whole number of floats");
        }
        return new Storage(segment, segment.byteSize() / Float.BYTES, null);
    }

    public MemorySegment segment() {
        return segment;
    }

    public long numel() {
        return numel;
    }

    /**
     * Frees long-lived storage now. Scoped storage is freed by its scope, wrapped storage by its owner;
     * for both this does nothing. Any view used after this fails with IllegalStateException.
     */
    public void free() {
        if (release != null) {
            release.clean();
        }
    }
}

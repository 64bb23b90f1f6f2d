package io.colo4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.function.Function;

/**
 * A flat block of float32 elements in off-heap memory that one or more tensor views share.
 *
 * <p>A device backend may attach a {@link DeviceMirror}, its copy of these elements in device memory. The host
 * segment stays the reference for all host code: {@code Tensor}'s single data accessor calls
 * {@link #beforeHostAccess()} first, so the mirror can bring newer device results back and, because the host
 * may then write, treat its own copy as stale until it next uploads. {@link #free()} releases the mirror with
 * the memory; a scope-allocated storage's mirror is released by its backend once the scope has closed.
 */
public final class Storage {
    private final MemorySegment segment;
    private final long numel;
    private final Cleaner.Cleanable release;
    /** The step-memory block under this storage, null for other memory. */
    private final StepBlock stepBlock;
    /** Set by {@link #release()}, {@link #free()} or {@link #handOver}: from then on every access fails. */
    private boolean released;
    /** The op {@link #handOver} gave this storage's memory to, named by the error of any later access; else null. */
    private String handedTo;
    /** Set by {@link #markGradientBuffer()}, cleared by {@link #adoptedAsGradient()}. */
    private boolean gradientBuffer;
    /** Set by {@link #makeGradientBuffersWith}: where gradient buffers over this storage come from, else null. */
    private Function<int[], Tensor> gradientBufferSource;
    private volatile DeviceMirror mirror;

    /** A device backend's copy of a storage's elements; see the class comment for the coherence protocol. */
    public interface DeviceMirror {
        /** Before the host reads or writes {@code storage}'s segment: make the host copy current. */
        void beforeHostAccess(Storage storage);

        /** The storage's memory is being freed: release the device copy now (without syncing it back). */
        void release();
    }

    private Storage(MemorySegment segment, long numel, Cleaner.Cleanable release) {
        this(segment, numel, release, null);
    }

    private Storage(MemorySegment segment, long numel, Cleaner.Cleanable release, StepBlock stepBlock) {
        this.segment = segment;
        this.numel = numel;
        this.release = release;
        this.stepBlock = stepBlock;
    }

    private Storage(MemoryScope.Allocation allocation, long numel) {
        this(allocation.segment(), numel, allocation.release(), allocation.stepBlock());
    }

    /** Zero-filled storage from the calling thread's current {@link MemoryScope}. */
    public static Storage allocate(long numel) {
        int profiled = io.colo4j.tensor.profile.StepProfile.enter(io.colo4j.tensor.profile.StepProfile.ALLOCATOR);
        MemoryScope.Allocation allocation = MemoryScope.allocateFloats(numel);
        io.colo4j.tensor.profile.StepProfile.exit(profiled);
        return new Storage(allocation, numel);
    }

    /**
     * Storage whose elements are whatever the reused memory held (an earlier step's bytes, a freed block's), for
     * outputs written in full before they are read. Like torch.empty.
     */
    public static Storage allocateUninitialized(long numel) {
        int profiled = io.colo4j.tensor.profile.StepProfile.enter(io.colo4j.tensor.profile.StepProfile.ALLOCATOR);
        MemoryScope.Allocation allocation = MemoryScope.allocateFloats(numel, false);
        io.colo4j.tensor.profile.StepProfile.exit(profiled);
        return new Storage(allocation, numel);
    }

    /** Wraps memory owned elsewhere (a memory-mapped checkpoint, an MPI buffer); never freed by colo4j. */
    public static Storage wrap(MemorySegment segment) {
        if (segment.byteSize() % Float.BYTES != 0) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is not a whole number of floats");
        }
        return new Storage(segment, segment.byteSize() / Float.BYTES, null);
    }

    public MemorySegment segment() {
        if (released) {
            throw releasedError();
        }
        return segment;
    }

    public long numel() {
        return numel;
    }

    /** The attached device mirror, or null. */
    public DeviceMirror mirror() {
        return mirror;
    }

    /** Attaches {@code m} unless a mirror is already attached; returns the one attached afterwards. */
    public synchronized DeviceMirror attachMirror(DeviceMirror m) {
        if (mirror == null) {
            mirror = m;
        }
        return mirror;
    }

    /** Detaches {@code m} if it is the attached mirror (a released mirror of a closed device backend). */
    public synchronized void detachMirror(DeviceMirror m) {
        if (mirror == m) {
            mirror = null;
        }
    }

    /** Called before any host access to the segment (by {@code Tensor}); a no-op without a mirror. */
    public void beforeHostAccess() {
        if (released) {
            throw releasedError();
        }
        DeviceMirror m = mirror;
        if (m != null) {
            m.beforeHostAccess(this);
        }
    }

    /**
     * Frees long-lived storage now. Scoped storage is freed by its scope, wrapped storage by its owner;
     * for both this does nothing. Any view used after this fails with IllegalStateException.
     */
    public void free() {
        if (release != null) {
            DeviceMirror m = mirror;
            mirror = null;
            if (m != null) {
                m.release();
            }
            release.clean();
            released = true; // memory without an arena of its own stays mapped: the storage itself refuses access
        }
    }

    /**
     * Gives step memory ({@link MemoryScope#open()}) back to its scope's pool now, before the scope closes, for the
     * step's later allocations: the caller knows no one reads this storage again (autograd's dead intermediate
     * gradients). Every view used afterwards fails with IllegalStateException. Long-lived storage is freed as by
     * {@link #free()}; wrapped storage is left to its owner. Only the thread that allocated step memory may release it.
     */
    public void release() {
        if (released) {
            return;
        }
        if (stepBlock == null) {
            free();
            return;
        }
        stepBlock.scope().giveBack(stepBlock, segment);
        released = true;
        DeviceMirror m = mirror;
        mirror = null;
        if (m != null) {
            m.release();
        }
    }

    /** Whether this is long-lived memory colo4j allocated (a parameter's data, a gradient), not step memory or wrapped. */
    public boolean isLongLived() {
        return stepBlock == null && release != null;
    }

    /**
     * Marks long-lived memory a backward allocated for a gradient that a leaf may take as its own
     * ({@code Autograd.gradientBuffer}): until adopted, autograd releases it once dead, as it does step memory.
     */
    public void markGradientBuffer() {
        if (!isLongLived()) {
            throw new IllegalStateException("only long-lived memory can be a gradient buffer");
        }
        gradientBuffer = true;
    }

    /**
     * Makes the gradient buffers ({@code Autograd.gradientBuffer}) of tensors over this storage with {@code source} (a
     * shape to a tensor of it) instead of new long-lived memory: a sizing proxy's shared zero block, whose gradients
     * are zeros written over zeros and never kept, where each buffer would be long-lived memory allocated, faulted in
     * and freed per gradient and window for nothing ({@code plan --fit} for Llama-7B: 24 -> 61 s).
     */
    public void makeGradientBuffersWith(Function<int[], Tensor> source) {
        gradientBufferSource = source;
    }

    /** The source {@link #makeGradientBuffersWith} set, or null. */
    public Function<int[], Tensor> gradientBufferSource() {
        return gradientBufferSource;
    }

    /** Whether this is a {@link #markGradientBuffer() gradient buffer} no leaf has adopted yet. */
    public boolean isGradientBuffer() {
        return gradientBuffer && !released;
    }

    /** A leaf took this gradient buffer as its gradient: from now on it is the leaf's, not autograd's to release. */
    public void adoptedAsGradient() {
        gradientBuffer = false;
    }

    /** Whether {@link #handOver} may give this storage's memory away: live step memory of this thread's open scope. */
    public boolean canHandOver() {
        return stepBlock != null && !released && stepBlock.scope().isOpenOnThisThread();
    }

    /**
     * This storage's step memory under a new storage, for an op that writes its result over an input its caller handed
     * it to consume (a loss writing the logits' gradient over the logits, as Megatron's vocab-parallel cross-entropy
     * does): one buffer instead of two. The new storage counts as allocated now, so autograd may release it once dead;
     * this one fails every later access, naming {@code consumer}, so a view kept of the input can never read the
     * result as if it were the input. A device copy is brought back to the host and dropped first.
     */
    public Storage handOver(String consumer) {
        if (!canHandOver()) {
            throw new IllegalStateException("only live step memory of this thread's open scope can be handed over to " + consumer);
        }
        DeviceMirror m = mirror;
        if (m != null) {
            m.beforeHostAccess(this);
            mirror = null;
            m.release();
        }
        released = true;
        handedTo = consumer;
        return new Storage(segment, numel, release, stepBlock.scope().renewed(stepBlock));
    }

    /** True once {@link #release()} gave this storage's step memory back (or {@link #handOver} gave it away). */
    public boolean isReleased() {
        return released;
    }

    /**
     * Whether this is step memory this thread allocated once it had made {@code allocations} step blocks (a
     * {@link MemoryScope#stepAllocations()} taken earlier): memory made since then, not an input's or a parameter's.
     */
    public boolean madeSince(long allocations) {
        return stepBlock != null && stepBlock.serial() >= allocations;
    }

    private IllegalStateException releasedError() {
        if (handedTo != null) {
            return new IllegalStateException("a tensor of " + numel + " elements is used after " + handedTo
                    + " consumed it (wrote its result over its memory): keep a copy (copy()) before that if you read it again");
        }
        if (isLongLived()) { // only free() releases long-lived storage (release() calls it for such)
            return new IllegalStateException("a tensor of " + numel + " elements is used after its memory was freed"
                    + " (Storage.free(), e.g. a gradient that zero_grad dropped): it may hold another tensor's data now");
        }
        return new IllegalStateException("a tensor of " + numel + " elements is used after its step memory was released"
                + " (Storage.release(), e.g. a dead intermediate gradient autograd gave back): it may hold another tensor's data now");
    }
}

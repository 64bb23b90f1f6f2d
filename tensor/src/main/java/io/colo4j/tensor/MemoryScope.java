package io.colo4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;

/**
 * Where tensor memory comes from, per thread (each in-JVM rank is a thread).
 *
 * <p>Inside {@link #open()} every allocation comes from this thread's {@link StepMemoryPool} and is freed, all
 * at once, when the scope closes: a training step runs in a scope so its activations and intermediate
 * gradients are released deterministically, with one arena close per step instead of one per tensor, and the
 * next step reuses the same memory (kept by the pool, already mapped) instead of asking the OS again.
 * Outside any scope, or inside {@link #persistent()}, memory is long-lived (parameters, gradients,
 * optimizer state): each allocation gets its own arena so {@link Storage#free()} can release it
 * exactly when asked, with a cleaner as the safety net for storage that is simply dropped; the block
 * itself goes to the {@link FreedBlockCache}, so the next allocation of its size (next step's gradient) reuses it.
 */
public final class MemoryScope implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final ThreadLocal<ArrayDeque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final StepMemoryPool.Step step;
    private final Thread owner = Thread.currentThread();
    private long bytes;
    private boolean closed;

    private MemoryScope(StepMemoryPool.Step step) {
        this.step = step;
    }

    /** Opens a scope whose allocations are all freed when it closes. */
    public static MemoryScope open() {
        return push(new MemoryScope(StepMemoryPool.current().open()));
    }

    /** Until closed, allocations on this thread are long-lived, even inside an open scope. */
    public static MemoryScope persistent() {
        return push(new MemoryScope(null));
    }

    /** True when allocations on this thread currently go to a step-scoped arena. */
    public static boolean isScoped() {
        MemoryScope top = STACK.get().peek();
        return top != null && top.step != null;
    }

    private static MemoryScope push(MemoryScope scope) {
        STACK.get().push(scope);
        return scope;
    }

    /**
     * Gives cached memory back to the OS: this thread's step pool (kept between scopes otherwise, and freed when
     * the thread ends; only while no {@link #open()} scope is open on this thread) and the freed long-lived blocks
     * kept for reuse.
     */
    public static void releaseCachedMemory() {
        StepMemoryPool.current().release();
        FreedBlockCache.release();
    }

    /**
     * Gives this thread's step pool back to the C heap now, for a thread about to end (an in-JVM rank), so it
     * does not wait for a garbage collection to run the pool's cleaner; a no-op while a scope is still open.
     */
    public static void releaseThreadCache() {
        if (STACK.get().stream().noneMatch(s -> s.step != null)) {
            StepMemoryPool.current().release();
        }
    }

    /** A 64-byte aligned block of {@code count} floats and the way to free it early. */
    record Allocation(MemorySegment segment, Cleaner.Cleanable release) {}

    /** A zero-filled block. */
    static Allocation allocateFloats(long count) {
        return allocateFloats(count, true);
    }

    /** {@code zeroed} false: the caller overwrites every element, so a reused block is handed out as it was left. */
    static Allocation allocateFloats(long count, boolean zeroed) {
        if (count < 0) {
            throw new IllegalArgumentException("cannot allocate a negative number of floats: " + count);
        }
        long size = Math.max(count, 1) * Float.BYTES;
        MemoryScope top = STACK.get().peek();
        if (top != null && top.step != null) {
            top.bytes += size;
            MemoryStats.allocated(size);
            MemoryStats.stepScoped(size);
            return new Allocation(StepMemoryPool.current().take(top.step, size, zeroed), null);
        }
        // the memory may be a freed block of the same size again; a fresh arena gives this storage its own lifetime
        Arena own = Arena.ofShared();
        NativeHeap.Block block = FreedBlockCache.take(size, zeroed);
        MemorySegment segment = block.memory().reinterpret(own, null);
        MemoryStats.allocated(size);
        return new Allocation(segment, CLEANER.register(segment, new Release(own, block)));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a MemoryScope must be closed by the thread that opened it (" + owner.getName() + ")");
        }
        ArrayDeque<MemoryScope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("MemoryScopes must be closed in reverse order of opening");
        }
        stack.pop();
        closed = true;
        if (step != null) {
            StepMemoryPool.current().close(step);
            MemoryStats.freed(bytes);
            MemoryStats.stepScoped(-bytes);
        }
    }

    /** Holds only the arena and the block, never the storage's segment, so the cleaner can fire once it is unreachable. */
    private record Release(Arena arena, NativeHeap.Block block) implements Runnable {
        @Override
        public void run() {
            arena.close();
            MemoryStats.freed(block.memory().byteSize());
            FreedBlockCache.give(block);
        }
    }
}

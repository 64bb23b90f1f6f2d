package io.colo4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;

/**
 * Where tensor memory comes from, per thread (each in-JVM rank is a thread).
 *
 * <p>Inside {@link #open()} every allocation comes from one shared arena that is freed, all at once,
 * when the scope closes: a training step runs in a scope so its activations and intermediate
 * gradients are released deterministically, with one arena close per step instead of one per tensor.
 * Outside any scope, or inside {@link #persistent()}, memory is long-lived (parameters, gradients,
 * optimizer state): each allocation gets its own arena so {@link Storage#free()} can release it
 * exactly when asked, with a cleaner as the safety net for storage that is simply dropped.
 */
public final class MemoryScope implements AutoCloseable {
    private static final long ALIGNMENT = 64;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final ThreadLocal<ArrayDeque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Arena arena;
    private final Thread owner = Thread.currentThread();
    private long bytes;
    private boolean closed;

    private MemoryScope(Arena arena) {
        this.arena = arena;
    }

    /** Opens a scope whose allocations are all freed when it closes. */
    public static MemoryScope open() {
        return push(new MemoryScope(Arena.ofShared()));
    }

    /** Until closed, allocations on this thread are long-lived, even inside an open scope. */
    public static MemoryScope persistent() {
        return push(new MemoryScope(null));
    }

    /** True when allocations on this thread currently go to a step-scoped arena. */
    public static boolean isScoped() {
        MemoryScope top = STACK.get().peek();
        return top != null && top.arena != null;
    }

    private static MemoryScope push(MemoryScope scope) {
        STACK.get().push(scope);
        return scope;
    }

    /** A zero-filled, 64-byte aligned block of {@code count} floats and the way to free it early. */
    record Allocation(MemorySegment segment, Cleaner.Cleanable release) {}

    static Allocation allocateFloats(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("cannot allocate a negative number of floats: " + count);
        }
        long size = Math.max(count, 1) * Float.BYTES;
        MemoryScope top = STACK.get().peek();
        if (top != null && top.arena != null) {
            top.bytes += size;
            MemoryStats.allocated(size);
            return new Allocation(top.arena.allocate(size, ALIGNMENT), null);
        }
        Arena own = Arena.ofShared();
        MemorySegment segment = own.allocate(size, ALIGNMENT);
        MemoryStats.allocated(size);
        return new Allocation(segment, CLEANER.register(segment, new Release(own, size)));
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
        if (arena != null) {
            arena.close();
            MemoryStats.freed(bytes);
        }
    }

    /** Holds only the arena, never the segment, so the cleaner can fire once the storage is unreachable. */
    private record Release(Arena arena, long bytes) implements Runnable {
        @Override
        public void run() {
            arena.close();
            MemoryStats.freed(bytes);
        }
    }
}

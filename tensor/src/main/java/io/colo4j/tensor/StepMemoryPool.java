package io.colo4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;

/**
 * The memory one thread's step scopes ({@link MemoryScope#open()}) reuse, as PyTorch's caching allocator keeps
 * CUDA memory: chunks taken from the C heap once and kept, handed out as a stack. A scope remembers where the
 * stack stood when it opened and puts it back there when it closes, so the next step gets the same bytes
 * again, already mapped: no page faults and no return to the OS after the first step.
 *
 * <p>A block lives as long as its scope, not as its chunk: each scope has a fresh shared {@link Arena} that
 * owns no memory and only gives the scope's segments their lifetime, so closing it makes every view of the
 * step fail loudly on use (as when the step's memory was really freed) while the chunk stays.
 *
 * <p>Placement is deterministic: a block goes in the current chunk if it fits, else in the first later chunk
 * big enough, else in a new chunk appended at the end (at least as large as all chunks so far, so there are few).
 * A step that allocates what an earlier one did therefore lands on the same chunks and never grows the pool.
 * Each pool belongs to one thread (in-JVM ranks are threads); its chunks go back to the C heap when the thread
 * ends (a cleaner) or on {@link #release()}.
 */
final class StepMemoryPool {
    static final long ALIGNMENT = 64;
    private static final long MIN_CHUNK = 4L << 20;
    private static final long MAX_GROWTH = 1L << 30;
    private static final Cleaner CLEANER = Cleaner.create();
    private static final ThreadLocal<StepMemoryPool> POOL = ThreadLocal.withInitial(StepMemoryPool::new);
    /** The thread's second pool, for a scope opened with {@link MemoryScope#openAside()} above one on the first. */
    private static final ThreadLocal<StepMemoryPool> ASIDE = ThreadLocal.withInitial(StepMemoryPool::new);

    /** What the pool owns, apart from the pool itself, so the cleaner can free it once the thread is gone. */
    private final Held held = new Held();
    private int current;
    private long offset;

    private StepMemoryPool() {
        CLEANER.register(this, held);
    }

    static StepMemoryPool current() {
        return POOL.get();
    }

    static StepMemoryPool aside() {
        return ASIDE.get();
    }

    /** One open scope: the arena its segments live in and the stack position to return to. */
    record Step(Arena arena, int chunk, long offset) {}

    Step open() {
        Step step = new Step(Arena.ofShared(), current, offset);
        held.open.add(step.arena());
        return step;
    }

    /** Invalidates the step's segments, then hands its memory to the next step. */
    void close(Step step) {
        step.arena().close();
        held.open.remove(step.arena());
        current = step.chunk();
        offset = step.offset();
    }

    /** {@code bytes} at the top of the stack, {@link #ALIGNMENT}-aligned, living as long as {@code step}. */
    MemorySegment take(Step step, long bytes, boolean zeroed) {
        long size = (bytes + ALIGNMENT - 1) & -ALIGNMENT;
        List<NativeHeap.Block> chunks = held.chunks;
        if (current >= chunks.size() || offset + size > chunks.get(current).memory().byteSize()) {
            int next = current + 1;
            while (next < chunks.size() && chunks.get(next).memory().byteSize() < size) {
                next++;
            }
            if (next >= chunks.size()) {
                next = chunks.size();
                grow(size);
            }
            current = next;
            offset = 0;
        }
        MemorySegment block = chunks.get(current).memory().asSlice(offset, bytes).reinterpret(step.arena(), null);
        offset += size;
        if (zeroed) {
            block.fill((byte) 0);
        }
        return block;
    }

    private void grow(long size) {
        long reserved = held.reservedBytes();
        long chunk = Math.max(size, Math.max(MIN_CHUNK, Math.min(reserved, MAX_GROWTH)));
        held.chunks.add(NativeHeap.allocate(chunk, ALIGNMENT));
        MemoryStats.reserved(chunk);
    }

    /** Bytes this thread's pool holds from the C heap. */
    long reservedBytes() {
        return held.reservedBytes();
    }

    /** Returns every chunk to the C heap; only while no step scope is open on this thread. */
    void release() {
        if (!held.open.isEmpty()) {
            throw new IllegalStateException(held.open.size() + " step scope(s) still open on " + Thread.currentThread().getName()
                    + ": their memory cannot be released");
        }
        held.run();
        current = 0;
        offset = 0;
    }

    private static final class Held implements Runnable {
        final List<NativeHeap.Block> chunks = new ArrayList<>();
        final List<Arena> open = new ArrayList<>();

        long reservedBytes() {
            long sum = 0;
            for (NativeHeap.Block c : chunks) {
                sum += c.memory().byteSize();
            }
            return sum;
        }

        /** Frees the chunks; a scope left open by a thread that ended is closed first so no view outlives them. */
        @Override
        public void run() {
            for (Arena arena : open) {
                try {
                    arena.close();
                } catch (IllegalStateException inUse) {
                    return; // another thread is still reading a view: keep the memory rather than pull it away
                }
            }
            open.clear();
            for (NativeHeap.Block c : chunks) {
                NativeHeap.free(c);
                MemoryStats.reserved(-c.memory().byteSize());
            }
            chunks.clear();
        }
    }
}

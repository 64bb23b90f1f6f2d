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
 * <p>A block can also come back before its scope closes ({@link #give}, a dead intermediate gradient): a block at
 * the top of the stack lowers the stack, any other becomes a {@link FreeRanges free range} of its scope, which the
 * scope's later blocks take first (best fit), so a step's footprint is its live bytes' peak, not the sum of all
 * it ever allocated. The scope's close still resets everything at once.
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
    /** The open scopes, innermost first: only the innermost one owns the top of the stack. */
    private final java.util.ArrayDeque<Step> openSteps = new java.util.ArrayDeque<>();

    private StepMemoryPool() {
        CLEANER.register(this, held);
    }

    static StepMemoryPool current() {
        return POOL.get();
    }

    static StepMemoryPool aside() {
        return ASIDE.get();
    }

    /**
     * One open scope: the arena its segments live in, the stack position to return to, and the blocks it gave
     * back before closing.
     */
    record Step(Arena arena, int chunk, long offset, FreeRanges free) {}

    /** Where a block of a step lies, to give it back early with {@link #give}. */
    record Placement(int chunk, long offset, long size) {}

    Step open() {
        Step step = new Step(Arena.ofShared(), current, offset, new FreeRanges());
        held.open.add(step.arena());
        openSteps.push(step);
        return step;
    }

    /** Invalidates the step's segments, then hands its memory to the next step. */
    void close(Step step) {
        step.arena().close();
        held.open.remove(step.arena());
        openSteps.remove(step);
        current = step.chunk();
        offset = step.offset();
    }

    /**
     * {@code bytes} {@link #ALIGNMENT}-aligned, living as long as {@code step}: the smallest free range of the step
     * that holds them, else the top of the stack. {@code where} receives the block's place (for {@link #give}).
     */
    MemorySegment take(Step step, long bytes, boolean zeroed, Placement[] where) {
        long size = (bytes + ALIGNMENT - 1) & -ALIGNMENT;
        List<NativeHeap.Block> chunks = held.chunks;
        long reused = step.free().takeBestFit(size);
        if (reused >= 0) {
            int chunk = FreeRanges.chunk(reused);
            long at = FreeRanges.offset(reused);
            where[0] = new Placement(chunk, at, size);
            return slice(step, chunks.get(chunk).memory(), at, bytes, zeroed);
        }
        if (current >= chunks.size() || offset + size > chunks.get(current).memory().byteSize()) {
            if (current < chunks.size() && openSteps.peek() == step) {
                // the tail the stack leaves behind in this chunk is the step's to reuse
                step.free().add(current, offset, chunks.get(current).memory().byteSize() - offset);
            }
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
        where[0] = new Placement(current, offset, size);
        MemorySegment block = slice(step, chunks.get(current).memory(), offset, bytes, zeroed);
        offset += size;
        return block;
    }

    private static MemorySegment slice(Step step, MemorySegment chunk, long at, long bytes, boolean zeroed) {
        MemorySegment block = chunk.asSlice(at, bytes).reinterpret(step.arena(), null);
        if (zeroed) {
            block.fill((byte) 0);
        }
        return block;
    }

    /**
     * Takes a block of the open {@code step} back before the step closes: at the top of the stack it lowers the
     * stack (with any free ranges it then reaches), anywhere else it becomes a free range of the step.
     */
    void give(Step step, Placement block) {
        if (!openSteps.contains(step)) {
            throw new IllegalStateException("giving back a block of a step scope that is closed");
        }
        if (openSteps.peek() == step && block.chunk() == current && block.offset() + block.size() == offset) {
            offset = block.offset();
            long below;
            while ((below = step.free().removeEndingAt(current, offset)) >= 0) {
                offset = below;
            }
            return;
        }
        step.free().add(block.chunk(), block.offset(), block.size());
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

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
 * next step reuses the same memory (kept by the pool, already mapped) instead of asking the OS again. A block
 * known dead earlier (autograd's intermediate gradients) can be given back before then with {@link Storage#release()},
 * for the scope's later allocations.
 * Outside any scope, or inside {@link #persistent()}, memory is long-lived (parameters, gradients,
 * optimizer state): each allocation gets its own arena so {@link Storage#free()} can release it
 * exactly when asked, with a cleaner as the safety net for storage that is simply dropped; the block
 * itself goes to the {@link FreedBlockCache}, so the next allocation of its size (next step's gradient) reuses it.
 * Inside {@link #persistentWithoutArena()} (autograd's leaf gradients, freed by every zero_grad) the arena is left
 * out: closing a shared arena makes the JVM stop every thread for a handshake.
 */
public final class MemoryScope implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final ThreadLocal<ArrayDeque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final StepMemoryPool.Step step;
    private final StepMemoryPool pool;
    /** The scope whose bytes this one's allocations count as and free with: itself, or the one {@link #outer()} stands for. */
    private final MemoryScope account;
    private final Thread owner = Thread.currentThread();
    /** For long-lived allocations: whether each gets an arena of its own (see {@link #persistentWithoutArena()}). */
    private final boolean ownArena;
    private long bytes;
    private boolean closed;

    private MemoryScope(StepMemoryPool pool, StepMemoryPool.Step step) {
        this(pool, step, true);
    }

    private MemoryScope(StepMemoryPool pool, StepMemoryPool.Step step, boolean ownArena) {
        this.pool = pool;
        this.step = step;
        this.account = this;
        this.ownArena = ownArena;
    }

    private MemoryScope(MemoryScope account) {
        this.pool = account.pool;
        this.step = account.step;
        this.account = account;
        this.ownArena = true;
    }

    /** Opens a scope whose allocations are all freed when it closes. */
    public static MemoryScope open() {
        return push(new MemoryScope(StepMemoryPool.current(), StepMemoryPool.current().open()));
    }

    /**
     * Opens a step scope on the pool the nearest step scope does not use (this thread has two), so that while it is
     * open, {@link #outer()} can still allocate into that enclosing scope: activation recompute runs a layer in such a
     * scope, copies out what must outlive it and frees the rest at once.
     */
    public static MemoryScope openAside() {
        StepMemoryPool enclosing = STACK.get().stream().filter(s -> s.step != null).map(s -> s.pool).findFirst().orElse(null);
        StepMemoryPool pool = enclosing == StepMemoryPool.current() ? StepMemoryPool.aside() : StepMemoryPool.current();
        return push(new MemoryScope(pool, pool.open()));
    }

    /**
     * Until closed, allocations on this thread go where they went before the innermost open scope was opened (and
     * are freed with that scope); for what a scope from {@link #openAside()} hands back to its caller.
     */
    public static MemoryScope outer() {
        ArrayDeque<MemoryScope> stack = STACK.get();
        if (stack.isEmpty()) {
            throw new IllegalStateException("MemoryScope.outer(): no scope is open on this thread");
        }
        java.util.Iterator<MemoryScope> it = stack.iterator();
        it.next();
        MemoryScope below = it.hasNext() ? it.next() : null;
        if (below == null || below.step == null) {
            return persistent();
        }
        if (below.pool == stack.peek().pool) {
            throw new IllegalStateException("MemoryScope.outer(): the innermost scope shares its pool with the one below; open it with openAside()");
        }
        return push(new MemoryScope(below.account));
    }

    /** Until closed, allocations on this thread are long-lived, even inside an open scope. */
    public static MemoryScope persistent() {
        return push(new MemoryScope(null, null));
    }

    /**
     * As {@link #persistent()}, but an allocation gets no arena of its own: its segment stays valid after
     * {@link Storage#free()}, and only the storage then refuses access (as it does anyway; under
     * {@link StepBlock#POISON} the freed bytes also become NaN, as released step memory does). For memory freed every
     * step (autograd's leaf gradients, at zero_grad): closing a shared arena makes the JVM hand-shake with every
     * thread, and one close per parameter per rank per step (~1,400 a second in GPT-2 mini at tp 2) kept stalling rank
     * threads between their collectives.
     */
    public static MemoryScope persistentWithoutArena() {
        return push(new MemoryScope(null, null, false));
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
        StepMemoryPool.aside().release();
        FreedBlockCache.release();
    }

    /**
     * Gives this thread's step pool back to the C heap now, for a thread about to end (an in-JVM rank), so it
     * does not wait for a garbage collection to run the pool's cleaner; a no-op while a scope is still open.
     */
    public static void releaseThreadCache() {
        if (STACK.get().stream().noneMatch(s -> s.step != null)) {
            StepMemoryPool.current().release();
            StepMemoryPool.aside().release();
        }
    }

    /**
     * A 64-byte aligned block of {@code count} floats and the way to free it early: {@code release} for long-lived
     * memory, {@code stepBlock} for step memory (null for the other kind).
     */
    record Allocation(MemorySegment segment, Cleaner.Cleanable release, StepBlock stepBlock) {}

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
            top.account.bytes += size;
            MemoryStats.allocated(size);
            long serial = MemoryStats.stepAllocated(size);
            StepCensus.allocated(serial, size, top.account);
            StepMemoryPool.Placement[] where = new StepMemoryPool.Placement[1];
            MemorySegment segment = top.pool.take(top.step, size, zeroed, where);
            return new Allocation(segment, null, new StepBlock(top.account, where[0], size, serial));
        }
        // the memory may be a freed block of the same size again; a fresh arena gives this storage its own lifetime
        Arena own = top == null || top.ownArena ? Arena.ofShared() : null;
        NativeHeap.Block block = FreedBlockCache.take(size, zeroed);
        // without an arena, a segment object of its own all the same: the cleaner fires once this storage's is unreachable
        MemorySegment segment = own != null ? block.memory().reinterpret(own, null) : block.memory().asSlice(0);
        MemoryStats.allocated(size);
        return new Allocation(segment, CLEANER.register(segment, new Release(own, block)), null);
    }

    /** How many step-memory blocks this thread allocated so far: the serial of the next one ({@link Storage#madeSince}). */
    public static long stepAllocations() {
        return MemoryStats.stepAllocations();
    }

    /** Whether this scope is still open and was opened by the calling thread (whose step counters its blocks are in). */
    boolean isOpenOnThisThread() {
        return !closed && Thread.currentThread() == owner;
    }

    /** {@code block}, still live, under a serial number taken now ({@link Storage#handOver}): made since now, as autograd sees it. */
    StepBlock renewed(StepBlock block) {
        long serial = MemoryStats.stepAllocated(0);
        StepCensus.renumbered(block.serial(), serial);
        return new StepBlock(block.scope(), block.placement(), block.bytes(), serial);
    }

    /**
     * Gives {@code block} of this scope back to its pool before the scope closes (a no-op once it has closed: its
     * memory was reset then); under {@link StepBlock#POISON} its bytes become NaN first.
     */
    void giveBack(StepBlock block, MemorySegment segment) {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("step memory of " + owner.getName() + " must be released by that thread, not "
                    + Thread.currentThread().getName());
        }
        if (StepBlock.POISON) {
            segment.fill((byte) -1); // 0xFFFFFFFF is a NaN: a stale view computes NaN, never another tensor's numbers
        }
        pool.give(step, block.placement());
        bytes -= block.bytes();
        MemoryStats.freed(block.bytes());
        MemoryStats.stepFreed(block.bytes());
        StepCensus.released(block.serial());
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
        if (step != null && account == this) {
            pool.close(step);
            MemoryStats.freed(bytes);
            MemoryStats.stepFreed(bytes);
            StepCensus.closed(this);
        }
    }

    /**
     * Holds only the arena (null for {@link #persistentWithoutArena()}) and the block, never the storage's segment, so
     * the cleaner can fire once it is unreachable.
     */
    private record Release(Arena arena, NativeHeap.Block block) implements Runnable {
        @Override
        public void run() {
            if (arena != null) {
                arena.close();
            } else if (StepBlock.POISON) {
                block.memory().fill((byte) -1); // NaN: a segment kept past the free computes NaN, not the next owner's numbers
            }
            MemoryStats.freed(block.memory().byteSize());
            FreedBlockCache.give(block);
        }
    }
}

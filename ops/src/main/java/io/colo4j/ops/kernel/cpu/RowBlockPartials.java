package io.colo4j.ops.kernel.cpu;

/**
 * The per-row-block partial sums of a norm's weight gradients (layernorm's gamma and beta, rmsnorm's gamma), kept by
 * the calling thread from one call to the next: a [blocks][n] array per call was a few MB of fresh heap per backward
 * (3.2 MB at 4096 x 3072), which the garbage collector then paid for in page faults. The pool threads of one call
 * fill them; the caller waits for them, so one thread's sets are never used by two calls at once.
 */
final class RowBlockPartials {
    private static final ThreadLocal<RowBlockPartials> LOCAL = ThreadLocal.withInitial(RowBlockPartials::new);
    private final float[][][] slots = {new float[0][], new float[0][]};

    private RowBlockPartials() {}

    /**
     * {@code blocks} arrays of at least {@code n} floats for {@code slot} (0 or 1) of the calling thread, holding what
     * the last call left: a block zeroes its own first {@code n} before adding into them.
     */
    static float[][] of(int slot, int blocks, int n) {
        float[][][] slots = LOCAL.get().slots;
        float[][] set = slots[slot];
        if (set.length < blocks || (blocks > 0 && set[0].length < n)) {
            set = new float[Math.max(blocks, set.length)][Math.max(n, set.length == 0 ? 0 : set[0].length)];
            slots[slot] = set;
        }
        return set;
    }
}

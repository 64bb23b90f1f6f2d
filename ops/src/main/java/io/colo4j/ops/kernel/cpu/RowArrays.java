package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;

/**
 * Each kernel thread's three scratch arrays for row kernels, which copy rows in from a tensor's memory in bulk, run
 * their passes over the arrays and copy results out (see {@link Softmax}'s note for why). Each array is at least one
 * vector longer than asked, so a row's last vector may be loaded, or stored to, past its end. They grow and are kept;
 * a kernel's task never starts another task on its thread while it holds them (the pool's tasks here do not nest).
 */
final class RowArrays {
    private static final ThreadLocal<float[][]> LOCAL = ThreadLocal.withInitial(() -> new float[3][0]);

    private RowArrays() {}

    static float[] first(int floats) {
        return get(0, floats);
    }

    static float[] second(int floats) {
        return get(1, floats);
    }

    static float[] third(int floats) {
        return get(2, floats);
    }

    private static float[] get(int slot, int floats) {
        float[][] arrays = LOCAL.get();
        if (arrays[slot].length < floats + L) {
            arrays[slot] = new float[floats + L];
        }
        return arrays[slot];
    }
}

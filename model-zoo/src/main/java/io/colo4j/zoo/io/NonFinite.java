package io.colo4j.zoo.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Finding NaN and infinite floats in what a reader has just converted: one pass over the bits, no branches taken on finite data. */
final class NonFinite {
    private static final int EXPONENT = 0x7F80_0000;

    private NonFinite() {}

    /** The index (from {@code start}) of the first NaN or infinity among {@code n} floats of {@code segment}, or -1. */
    static int first(MemorySegment segment, long start, int n) {
        for (int i = 0; i < n; i++) {
            // all exponent bits set: infinity or NaN
            if ((segment.getAtIndex(ValueLayout.JAVA_INT, start + i) & EXPONENT) == EXPONENT) {
                return i;
            }
        }
        return -1;
    }

    /** Flat (row-major) index {@code flat} of a tensor of {@code shape} as one index per dim. */
    static long[] index(int[] shape, long flat) {
        long[] idx = new long[shape.length];
        long rest = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = shape[d] == 0 ? 0 : rest % shape[d];
            rest = shape[d] == 0 ? 0 : rest / shape[d];
        }
        return idx;
    }
}

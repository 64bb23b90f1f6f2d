package io.colo4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Copies between arbitrarily strided views; the innermost contiguous run moves as one bulk copy. */
final class StridedCopy {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    private StridedCopy() {}

    static void copy(MemorySegment src, long srcOffset, long[] srcStrides,
                     MemorySegment dst, long dstOffset, long[] dstStrides, int[] shape) {
        if (Shapes.numel(shape) == 0) {
            return;
        }
        if (shape.length == 0) {
            dst.setAtIndex(FLOAT, dstOffset, src.getAtIndex(FLOAT, srcOffset));
            return;
        }
        copyDim(0, src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
    }

    private static void copyDim(int d, MemorySegment src, long so, long[] ss,
                                MemorySegment dst, long dO, long[] ds, int[] shape) {
        int n = shape[d];
        if (d == shape.length - 1) {
            if (ss[d] == 1 && ds[d] == 1) {
                MemorySegment.copy(src, so * Float.BYTES, dst, dO * Float.BYTES, (long) n * Float.BYTES);
            } else {
                for (int i = 0; i < n; i++) {
                    dst.setAtIndex(FLOAT, dO + i * ds[d], src.getAtIndex(FLOAT, so + i * ss[d]));
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            copyDim(d + 1, src, so + i * ss[d], ss, dst, dO + i * ds[d], ds, shape);
        }
    }

    static void fill(MemorySegment dst, long offset, long[] strides, int[] shape, float value) {
        if (Shapes.numel(shape) == 0) {
            return;
        }
        if (shape.length == 0) {
            dst.setAtIndex(FLOAT, offset, value);
            return;
        }
        fillDim(0, dst, offset, strides, shape, value);
    }

    private static void fillDim(int d, MemorySegment dst, long off, long[] strides, int[] shape, float value) {
        for (int i = 0; i < shape[d]; i++) {
            if (d == shape.length - 1) {
                dst.setAtIndex(FLOAT, off + i * strides[d], value);
            } else {
                fillDim(d + 1, dst, off + i * strides[d], strides, shape, value);
            }
        }
    }
}

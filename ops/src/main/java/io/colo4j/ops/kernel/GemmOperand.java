package io.colo4j.ops.kernel;

import io.colo4j.tensor.Tensor;

/**
 * How a [..., rows, cols] view maps onto BLAS arguments without copying: row-major with a leading
 * dimension, or a transposed view of row-major memory; batch dims must collapse to one stride.
 */
public record GemmOperand(Tensor tensor, boolean transposed, int leadingDim, long batchStride, int batch, int rows, int cols) {

    /** The operand view, or null when its strides need a contiguous copy first. */
    public static GemmOperand of(Tensor t) {
        int r = t.dim();
        if (r < 2) {
            throw new IllegalArgumentException("matmul operand needs at least 2 dims, got " + r);
        }
        int rows = t.size(-2);
        int cols = t.size(-1);
        long sRow = t.stride(-2);
        long sCol = t.stride(-1);
        boolean transposed;
        long ld;
        if ((sCol == 1 || cols == 1) && sRow >= Math.max(cols, 1)) {
            transposed = false;
            ld = sRow;
        } else if (rows == 1 && sCol == 1) {
            transposed = false;
            ld = Math.max(cols, 1);
        } else if ((sRow == 1 || rows == 1) && sCol >= Math.max(rows, 1)) {
            transposed = true;
            ld = sCol;
        } else if (cols == 1 && sRow >= 1) {
            transposed = true;
            ld = Math.max(sRow, 1);
        } else {
            return null;
        }
        if (ld > Integer.MAX_VALUE) {
            return null;
        }
        int batch = 1;
        long batchStride = 0;
        for (int d = r - 3; d >= 0; d--) {
            int size = t.size(d);
            if (size == 1) {
                continue;
            }
            long stride = t.stride(d);
            if (batch == 1) {
                batchStride = stride;
            } else if (stride != batchStride * batch) {
                return null;
            }
            batch *= size;
        }
        return new GemmOperand(t, transposed, (int) ld, batchStride, batch, rows, cols);
    }

    /** {@code t} itself when it maps onto a gemm operand, else a contiguous copy (differentiable). */
    public static Tensor prepare(Tensor t) {
        return of(t) != null ? t : t.contiguous();
    }
}

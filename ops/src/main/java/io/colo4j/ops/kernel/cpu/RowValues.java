package io.colo4j.ops.kernel.cpu;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A 1-d tensor of one value per row (a norm's mean or rstd) read and written straight in memory: {@code Tensor.get}
 * and {@code set} take a varargs index, a heap int[] per row wherever C2's escape analysis does not remove it (196 KB
 * per 4096-row layer norm call, seen as 66-381 KB in some processes).
 */
record RowValues(MemorySegment segment, long offset, long stride) {
    static RowValues of(Tensor t) {
        return new RowValues(t.segment(), t.offset(), t.stride(0));
    }

    float get(int row) {
        return Vec.get(segment, offset + row * stride);
    }

    void set(int row, float value) {
        Vec.set(segment, offset + row * stride, value);
    }
}

package io.colo4j.ops.kernel.cpu;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Row gather and its scatter-add; a shard holding rows [rowOffset, rowOffset + rows) ignores other ids. */
final class Embedding {
    private Embedding() {}

    static void forward(IntTensor ids, Tensor weight, int rowOffset, Tensor out) {
        int rows = weight.size(0);
        int d = weight.size(1);
        MemorySegment mw = weight.segment();
        MemorySegment mo = out.segment();
        long ow = weight.offset();
        long oo = out.offset();
        CpuThreads.parallelFor(ids.numel(), Vec.rowGrain(d), (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = ids.get(i) - rowOffset;
                long dst = (oo + (long) i * d) * Float.BYTES;
                if (row >= 0 && row < rows) {
                    MemorySegment.copy(mw, (ow + (long) row * d) * Float.BYTES, mo, dst, (long) d * Float.BYTES);
                } else {
                    mo.asSlice(dst, (long) d * Float.BYTES).fill((byte) 0);
                }
            }
        });
    }

    /** Parallel over column blocks: every row of the gradient is written by one task, in id order. */
    static void backward(IntTensor ids, Tensor gradOut, int rowOffset, Tensor gradWeight) {
        int rows = gradWeight.size(0);
        int d = gradWeight.size(1);
        MemorySegment mg = gradOut.segment();
        MemorySegment mw = gradWeight.segment();
        long og = gradOut.offset();
        long ow = gradWeight.offset();
        int block = 64;
        int blocks = (d + block - 1) / block;
        CpuThreads.parallelFor(blocks, 1, (from, to) -> {
            int c0 = from * block;
            int c1 = Math.min(d, to * block);
            for (int i = 0; i < ids.numel(); i++) {
                int row = ids.get(i) - rowOffset;
                if (row < 0 || row >= rows) {
                    continue;
                }
                long src = og + (long) i * d;
                long dst = ow + (long) row * d;
                for (int c = c0; c < c1; c++) {
                    Vec.set(mw, dst + c, Vec.get(mw, dst + c) + Vec.get(mg, src + c));
                }
            }
        });
    }
}

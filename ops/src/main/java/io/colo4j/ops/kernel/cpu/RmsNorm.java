package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.ORDER;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** RMSNorm over the last dim; the weight gradient is summed in fixed row blocks, so it never depends on scheduling. */
final class RmsNorm {
    private static final int ROW_BLOCK = 32;

    private RmsNorm() {}

    static void forward(Tensor x, Tensor gamma, float eps, Tensor out, Tensor rstd) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        MemorySegment mx = x.segment();
        MemorySegment mo = out.segment();
        MemorySegment mg = gamma.segment();
        long ox = x.offset();
        long oo = out.offset();
        long og = gamma.offset();
        int bound = S.loopBound(n);
        RowValues rstds = RowValues.of(rstd);
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                long xb = ox + (long) r * n;
                long yb = oo + (long) r * n;
                FloatVector acc = FloatVector.zero(S);
                int i = 0;
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER);
                    acc = v.fma(v, acc);
                }
                acc = Vec.ONE.mul(acc);
                float sq = 0f;
                for (int lane = 0; lane < L; lane++) { // VecMath.sum's order, inline: a call taking a vector boxes it
                    sq += acc.lane(lane);
                }
                for (; i < n; i++) {
                    float v = Vec.get(mx, xb + i);
                    sq += v * v;
                }
                float rs = (float) (1.0 / Math.sqrt(sq / n + eps));
                rstds.set(r, rs);
                i = 0;
                for (; i < bound; i += L) {
                    FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).mul(rs)
                            .mul(FloatVector.fromMemorySegment(S, mg, (og + i) * Float.BYTES, Vec.ORDER))
                            .intoMemorySegment(mo, (yb + i) * Float.BYTES, Vec.ORDER);
                }
                for (; i < n; i++) {
                    Vec.set(mo, yb + i, Vec.get(mx, xb + i) * rs * Vec.get(mg, og + i));
                }
            }
        });
    }

    static void backward(Tensor x, Tensor gamma, Tensor rstd, Tensor gradOut, Tensor gradIn, Tensor gradGamma) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        MemorySegment partial = RowBlockPartials.of(0, blocks, n);
        long stride = RowBlockPartials.stride(n);
        MemorySegment mx = x.segment();
        MemorySegment mg = gamma.segment();
        MemorySegment mdy = gradOut.segment();
        MemorySegment mdx = gradIn.segment();
        long ox = x.offset();
        long og = gamma.offset();
        long ody = gradOut.offset();
        long odx = gradIn.offset();
        RowValues rstds = RowValues.of(rstd);
        CpuThreads.parallelFor(blocks, Math.max(1, Vec.rowGrain(n) / ROW_BLOCK), (fromBlock, toBlock) -> {
            for (int blk = fromBlock; blk < toBlock; blk++) {
                long pb = blk * stride;
                RowBlockPartials.zero(partial, pb, n);
                int r1 = Math.min(rows, (blk + 1) * ROW_BLOCK);
                for (int r = blk * ROW_BLOCK; r < r1; r++) {
                    long xb = ox + (long) r * n;
                    long gb = ody + (long) r * n;
                    float rs = rstds.get(r);
                    float mean = accumulateRow(mx, xb, mdy, gb, mg, og, n, rs, partial, pb) / n;
                    gradInRow(mx, xb, mdy, gb, mg, og, mdx, odx + (long) r * n, n, rs, mean);
                }
            }
        });
        LayerNorm.addPartials(partial, stride, blocks, gradGamma, n);
    }

    /**
     * Returns the row's sum of dy gamma xhat (lane partial sums in lane order, then the tail) and adds dy xhat to the
     * block's gamma partial. Takes no vectors: a vector crossing a call C2 did not inline is boxed.
     */
    private static float accumulateRow(MemorySegment mx, long xb, MemorySegment mdy, long gb, MemorySegment mg, long og,
                                       int n, float rs, MemorySegment pg, long base) {
        int bound = S.loopBound(n);
        FloatVector vdot = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector xhat = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).mul(rs);
            FloatVector dy = FloatVector.fromMemorySegment(S, mdy, (gb + i) * Float.BYTES, Vec.ORDER);
            vdot = dy.mul(FloatVector.fromMemorySegment(S, mg, (og + i) * Float.BYTES, Vec.ORDER)).mul(xhat).add(vdot);
            FloatVector.fromMemorySegment(S, pg, (base + i) * Float.BYTES, Vec.ORDER).add(dy.mul(xhat))
                    .intoMemorySegment(pg, (base + i) * Float.BYTES, ORDER);
        }
        vdot = Vec.ONE.mul(vdot);
        float dot = 0f;
        for (int lane = 0; lane < L; lane++) { // VecMath.sum's order, inline: a call would box vdot
            dot += vdot.lane(lane);
        }
        for (; i < n; i++) {
            float xhat = Vec.get(mx, xb + i) * rs;
            float dy = Vec.get(mdy, gb + i);
            dot += dy * Vec.get(mg, og + i) * xhat;
            Vec.set(pg, base + i, Vec.get(pg, base + i) + dy * xhat);
        }
        return dot;
    }

    /** dx = rstd (dy gamma - xhat mean(dy gamma xhat)). */
    private static void gradInRow(MemorySegment mx, long xb, MemorySegment mdy, long gb, MemorySegment mg, long og,
                                  MemorySegment mdx, long ib, int n, float rs, float mean) {
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector xhat = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).mul(rs);
            FloatVector.fromMemorySegment(S, mdy, (gb + i) * Float.BYTES, Vec.ORDER)
                    .mul(FloatVector.fromMemorySegment(S, mg, (og + i) * Float.BYTES, Vec.ORDER))
                    .sub(xhat.mul(mean)).mul(rs)
                    .intoMemorySegment(mdx, (ib + i) * Float.BYTES, ORDER);
        }
        for (; i < n; i++) {
            float xhat = Vec.get(mx, xb + i) * rs;
            Vec.set(mdx, ib + i, rs * (Vec.get(mdy, gb + i) * Vec.get(mg, og + i) - xhat * mean));
        }
    }
}

package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.ORDER;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** LayerNorm over the last dim. Weight gradients are summed in fixed row blocks, so results never depend on scheduling. */
final class LayerNorm {
    private static final int ROW_BLOCK = 32;

    private LayerNorm() {}

    /**
     * One method per row loop: splitting its passes into methods taking no vectors cost ~20% of a thread's time at
     * 4096 x 3072. The row statistics go straight to memory ({@link RowValues}).
     */
    static void forward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor mean, Tensor rstd) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        MemorySegment mx = x.segment();
        MemorySegment mo = out.segment();
        MemorySegment mg = gamma.segment();
        MemorySegment mb = beta.segment();
        long ox = x.offset();
        long oo = out.offset();
        long og = gamma.offset();
        long ob = beta.offset();
        RowValues means = RowValues.of(mean);
        RowValues rstds = RowValues.of(rstd);
        int bound = S.loopBound(n);
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                long xb = ox + (long) r * n;
                long yb = oo + (long) r * n;
                FloatVector vs = FloatVector.zero(S);
                int i = 0;
                for (; i < bound; i += L) {
                    vs = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).add(vs);
                }
                vs = Vec.ONE.mul(vs);
                float sum = 0f;
                for (int lane = 0; lane < L; lane++) { // VecMath.sum's order, inline: a call taking a vector boxes it
                    sum += vs.lane(lane);
                }
                for (; i < n; i++) {
                    sum += Vec.get(mx, xb + i);
                }
                float mu = sum / n;
                FloatVector vv = FloatVector.zero(S);
                i = 0;
                for (; i < bound; i += L) {
                    FloatVector d = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).sub(mu);
                    vv = d.fma(d, vv);
                }
                vv = Vec.ONE.mul(vv);
                float var = 0f;
                for (int lane = 0; lane < L; lane++) { // VecMath.sum's order, inline: a call taking a vector boxes it
                    var += vv.lane(lane);
                }
                for (; i < n; i++) {
                    float d = Vec.get(mx, xb + i) - mu;
                    var += d * d;
                }
                float rs = (float) (1.0 / Math.sqrt(var / n + eps));
                means.set(r, mu);
                rstds.set(r, rs);
                i = 0;
                for (; i < bound; i += L) {
                    FloatVector xhat = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).sub(mu).mul(rs);
                    xhat.fma(FloatVector.fromMemorySegment(S, mg, (og + i) * Float.BYTES, Vec.ORDER),
                            FloatVector.fromMemorySegment(S, mb, (ob + i) * Float.BYTES, Vec.ORDER))
                            .intoMemorySegment(mo, (yb + i) * Float.BYTES, Vec.ORDER);
                }
                for (; i < n; i++) {
                    Vec.set(mo, yb + i, (Vec.get(mx, xb + i) - mu) * rs * Vec.get(mg, og + i) + Vec.get(mb, ob + i));
                }
            }
        });
    }

    static void backward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor gradOut,
                         Tensor gradIn, Tensor gradGamma, Tensor gradBeta) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        MemorySegment partialGamma = RowBlockPartials.of(0, blocks, n);
        MemorySegment partialBeta = RowBlockPartials.of(1, blocks, n);
        long stride = RowBlockPartials.stride(n);
        MemorySegment mx = x.segment();
        MemorySegment mg = gamma.segment();
        MemorySegment mdy = gradOut.segment();
        MemorySegment mdx = gradIn.segment();
        long ox = x.offset();
        long og = gamma.offset();
        long ody = gradOut.offset();
        long odx = gradIn.offset();
        RowValues means = RowValues.of(mean);
        RowValues rstds = RowValues.of(rstd);
        CpuThreads.parallelFor(blocks, Math.max(1, Vec.rowGrain(n) / ROW_BLOCK), (fromBlock, toBlock) -> {
            float[] sums = new float[2];
            for (int blk = fromBlock; blk < toBlock; blk++) {
                long pb = blk * stride;
                RowBlockPartials.zero(partialGamma, pb, n);
                RowBlockPartials.zero(partialBeta, pb, n);
                int r1 = Math.min(rows, (blk + 1) * ROW_BLOCK);
                for (int r = blk * ROW_BLOCK; r < r1; r++) {
                    long xb = ox + (long) r * n;
                    long gb = ody + (long) r * n;
                    float mu = means.get(r);
                    float rs = rstds.get(r);
                    accumulateRow(mx, xb, mdy, gb, mg, og, n, mu, rs, partialGamma, partialBeta, pb, sums);
                    gradInRow(mx, xb, mdy, gb, mg, og, mdx, odx + (long) r * n, n, mu, rs, sums[0] / n, sums[1] / n);
                }
            }
        });
        addPartials(partialGamma, stride, blocks, gradGamma, n);
        addPartials(partialBeta, stride, blocks, gradBeta, n);
    }

    /**
     * One row's first backward pass: sums[0] = sum of dxhat = dy gamma, sums[1] = sum of dxhat xhat (lane partial
     * sums added in lane order, then the tail), and the row's dy xhat and dy added to the block's gamma and beta
     * partials. Takes no vectors, like {@link #gradInRow}: a vector crossing a call C2 did not inline is boxed.
     */
    private static void accumulateRow(MemorySegment mx, long xb, MemorySegment mdy, long gb, MemorySegment mg, long og, int n,
                                      float mu, float rs, MemorySegment pg, MemorySegment pb, long base, float[] sums) {
        int bound = S.loopBound(n);
        FloatVector vs = FloatVector.zero(S);
        FloatVector vsx = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector xhat = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).sub(mu).mul(rs);
            FloatVector dy = FloatVector.fromMemorySegment(S, mdy, (gb + i) * Float.BYTES, Vec.ORDER);
            FloatVector dxhat = dy.mul(FloatVector.fromMemorySegment(S, mg, (og + i) * Float.BYTES, Vec.ORDER));
            vs = dxhat.add(vs);
            vsx = dxhat.mul(xhat).add(vsx);
            FloatVector.fromMemorySegment(S, pg, (base + i) * Float.BYTES, Vec.ORDER).add(dy.mul(xhat))
                    .intoMemorySegment(pg, (base + i) * Float.BYTES, ORDER);
            FloatVector.fromMemorySegment(S, pb, (base + i) * Float.BYTES, Vec.ORDER).add(dy)
                    .intoMemorySegment(pb, (base + i) * Float.BYTES, ORDER);
        }
        vs = Vec.ONE.mul(vs);
        vsx = Vec.ONE.mul(vsx);
        float sumDxhat = 0f;
        float sumDxhatXhat = 0f;
        for (int lane = 0; lane < L; lane++) { // VecMath.sum's order, inline: a call would box the vectors
            sumDxhat += vs.lane(lane);
            sumDxhatXhat += vsx.lane(lane);
        }
        for (; i < n; i++) {
            float xhat = (Vec.get(mx, xb + i) - mu) * rs;
            float dy = Vec.get(mdy, gb + i);
            float dxhat = dy * Vec.get(mg, og + i);
            sumDxhat += dxhat;
            sumDxhatXhat += dxhat * xhat;
            Vec.set(pg, base + i, Vec.get(pg, base + i) + dy * xhat);
            Vec.set(pb, base + i, Vec.get(pb, base + i) + dy);
        }
        sums[0] = sumDxhat;
        sums[1] = sumDxhatXhat;
    }

    /** dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)). */
    private static void gradInRow(MemorySegment mx, long xb, MemorySegment mdy, long gb, MemorySegment mg, long og,
                                  MemorySegment mdx, long ib, int n, float mu, float rs, float meanDxhat, float meanDxhatXhat) {
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector xhat = FloatVector.fromMemorySegment(S, mx, (xb + i) * Float.BYTES, Vec.ORDER).sub(mu).mul(rs);
            FloatVector dxhat = FloatVector.fromMemorySegment(S, mdy, (gb + i) * Float.BYTES, Vec.ORDER)
                    .mul(FloatVector.fromMemorySegment(S, mg, (og + i) * Float.BYTES, Vec.ORDER));
            dxhat.sub(meanDxhat).sub(xhat.mul(meanDxhatXhat)).mul(rs).intoMemorySegment(mdx, (ib + i) * Float.BYTES, ORDER);
        }
        for (; i < n; i++) {
            float xhat = (Vec.get(mx, xb + i) - mu) * rs;
            float dxhat = Vec.get(mdy, gb + i) * Vec.get(mg, og + i);
            Vec.set(mdx, ib + i, rs * (dxhat - meanDxhat - xhat * meanDxhatXhat));
        }
    }

    /**
     * target += the first {@code blocks} partials in block order, columns in parallel: each element's sum has one fixed
     * order (((t + p0) + p1) + ...), kept in a register over the blocks and stored once.
     */
    static void addPartials(MemorySegment partials, long stride, int blocks, Tensor target, int n) {
        if (target == null) {
            return;
        }
        MemorySegment m = target.segment();
        long off = target.offset();
        CpuThreads.parallelFor(n, Math.max(L, (1 << 14) / Math.max(1, blocks)), (from, to) -> {
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
                FloatVector t = FloatVector.fromMemorySegment(S, m, (off + i) * Float.BYTES, Vec.ORDER);
                for (int b = 0; b < blocks; b++) {
                    t = FloatVector.fromMemorySegment(S, partials, (b * stride + i) * Float.BYTES, Vec.ORDER).add(t);
                }
                Vec.ONE.mul(t).intoMemorySegment(m, (off + i) * Float.BYTES, ORDER);
            }
            for (; i < to; i++) {
                float t = Vec.get(m, off + i);
                for (int b = 0; b < blocks; b++) {
                    t += Vec.get(partials, b * stride + i);
                }
                Vec.set(m, off + i, t);
            }
        });
    }
}

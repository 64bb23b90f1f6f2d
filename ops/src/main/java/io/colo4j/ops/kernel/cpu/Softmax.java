package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Row softmax over the last dim, optionally causal, fused with its input scale; and its backward. */
final class Softmax {
    private Softmax() {}

    static void forward(Tensor x, float scale, boolean causal, Tensor out) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        int t = causal ? x.size(-2) : 0;
        if (causal && t != n) {
            throw new IllegalArgumentException("causal softmax needs [..., T, T], got last dims " + t + "x" + n);
        }
        MemorySegment mx = x.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long oo = out.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                int valid = causal ? (r % t) + 1 : n;
                row(mx, ox + (long) r * n, mo, oo + (long) r * n, n, valid, scale);
            }
        });
    }

    private static void row(MemorySegment mx, long xBase, MemorySegment mo, long oBase, int n, int valid, float scale) {
        int bound = S.loopBound(valid);
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += L) {
            vmax = vmax.max(Vec.load(mx, xBase + i));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < valid; i++) {
            max = Math.max(max, Vec.get(mx, xBase + i));
        }
        float shift = max * scale;
        FloatVector vsum = FloatVector.zero(S);
        i = 0;
        for (; i < bound; i += L) {
            FloatVector e = VecMath.exp(Vec.load(mx, xBase + i).mul(scale).sub(shift));
            Vec.store(e, mo, oBase + i);
            vsum = vsum.add(e);
        }
        float sum = VecMath.sum(vsum);
        for (; i < valid; i++) {
            float e = VecMath.exp(Vec.get(mx, xBase + i) * scale - shift);
            Vec.set(mo, oBase + i, e);
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += L) {
            Vec.store(Vec.load(mo, oBase + i).mul(inv), mo, oBase + i);
        }
        for (; i < valid; i++) {
            Vec.set(mo, oBase + i, Vec.get(mo, oBase + i) * inv);
        }
        for (i = valid; i < n; i++) {
            Vec.set(mo, oBase + i, 0f);
        }
    }

    static void backward(Tensor y, Tensor gradOut, float scale, Tensor gradIn) {
        int n = y.size(-1);
        int rows = Math.toIntExact(y.numel() / Math.max(n, 1));
        MemorySegment my = y.segment();
        MemorySegment mg = gradOut.segment();
        MemorySegment mo = gradIn.segment();
        long oy = y.offset();
        long og = gradOut.offset();
        long oo = gradIn.offset();
        int bound = S.loopBound(n);
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                long yb = oy + (long) r * n;
                long gb = og + (long) r * n;
                long ob = oo + (long) r * n;
                FloatVector vdot = FloatVector.zero(S);
                int i = 0;
                for (; i < bound; i += L) {
                    vdot = Vec.load(my, yb + i).fma(Vec.load(mg, gb + i), vdot);
                }
                float dot = VecMath.sum(vdot);
                for (; i < n; i++) {
                    dot += Vec.get(my, yb + i) * Vec.get(mg, gb + i);
                }
                i = 0;
                for (; i < bound; i += L) {
                    Vec.store(Vec.load(mg, gb + i).sub(dot).mul(Vec.load(my, yb + i)).mul(scale), mo, ob + i);
                }
                for (; i < n; i++) {
                    Vec.set(mo, ob + i, scale * Vec.get(my, yb + i) * (Vec.get(mg, gb + i) - dot));
                }
            }
        });
    }
}

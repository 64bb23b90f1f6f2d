package io.colo4j.ops.optim;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.ops.kernel.opencl.OptimizerKernels.AdamWScalars;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One parameter's AdamW state over a span {@code [from, from + length)} of its flat (tp-local) elements: the
 * whole parameter for {@link AdamW}, this rank's dp chunk for {@link ZeroAdamW}. The moments hold the span
 * (a ZeRO chunk's may be longer: padding past the parameter's end, always zero).
 */
final class AdamWMoments {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Floats per parallel task (a multiple of every vector length). */
    private static final int CHUNK = 1 << 16;

    final String name;
    final Tensor param;
    final boolean decays;
    final long from;
    final long length;
    final Tensor expAvg;
    final Tensor expAvgSq;
    /** Updates so far (torch's per-parameter {@code state['step']}). */
    long steps;

    /** {@code expAvg} and {@code expAvgSq}: zeros, allocated by the caller (in long-lived memory). */
    AdamWMoments(String name, Tensor param, boolean decays, long from, long length, Tensor expAvg, Tensor expAvgSq) {
        this.name = name;
        this.param = param;
        this.decays = decays;
        this.from = from;
        this.length = length;
        this.expAvg = expAvg;
        this.expAvgSq = expAvgSq;
    }

    /** The checkpoint key of a parameter's first moment. */
    static String expAvgKey(String name) {
        return name + ".exp_avg";
    }

    /** The checkpoint key of a parameter's second moment. */
    static String expAvgSqKey(String name) {
        return name + ".exp_avg_sq";
    }

    /**
     * One update of the span: counts the step, then runs the fused pass on the parameter's elements
     * {@code [from, from + length)} with the gradient's elements from {@code gradFrom} ({@code grad} contiguous).
     */
    void update(AdamW.Options options, double lr, Tensor grad, long gradFrom) {
        steps++;
        if (length == 0) {
            return;
        }
        Tensor p = param.isContiguous() ? param : param.copy();
        update(options, lr, p.segment(), (p.offset() + from) * Float.BYTES, grad.segment(), (grad.offset() + gradFrom) * Float.BYTES,
                expAvg.segment(), expAvg.offset() * Float.BYTES, expAvgSq.segment(), expAvgSq.offset() * Float.BYTES, length, steps,
                decays ? options.weightDecay() : 0.0);
        if (p != param) {
            param.copyFrom(p);
        }
    }

    /**
     * Takes this span of the whole moments {@code expAvgWhole} and {@code expAvgSqWhole} (shaped like the parameter)
     * and the step count; padding stays zero.
     */
    void load(Tensor expAvgWhole, Tensor expAvgSqWhole, long steps) {
        copySpan(expAvgWhole, expAvg);
        copySpan(expAvgSqWhole, expAvgSq);
        this.steps = steps;
    }

    private void copySpan(Tensor whole, Tensor target) {
        Tensor c = whole.isContiguous() ? whole : whole.copy();
        target.segment().asSlice(target.offset() * Float.BYTES, target.numel() * Float.BYTES).fill((byte) 0);
        MemorySegment.copy(c.segment(), (c.offset() + from) * Float.BYTES, target.segment(), target.offset() * Float.BYTES,
                length * Float.BYTES);
    }

    /**
     * The fused update of {@code n} consecutive floats of p, g, m, v (byte offsets into each segment), as
     * {@link AdamW}'s class comment, with the scalars a device backend's AdamW kernel uses. Every operation is a correctly rounded IEEE op applied lane by lane (no fused
     * multiply-add), so any split of a tensor into pieces, e.g. {@link ZeroAdamW}'s dp chunks, gives the same bits as
     * one pass.
     */
    private static void update(AdamW.Options options, double lr, MemorySegment ps, long po, MemorySegment gs, long go,
                               MemorySegment ms, long mo, MemorySegment vs, long vo, long n, long t, double wd) {
        AdamWScalars k = AdamWScalars.of(lr, options.beta1(), options.beta2(), options.eps(), wd, t);
        float decay = k.decay();
        float b1 = k.beta1();
        float b2 = k.beta2();
        float ob1 = k.oneMinusBeta1();
        float ob2 = k.oneMinusBeta2();
        float stepSize = k.stepSize();
        float invBc2Sqrt = k.invBias2Sqrt();
        float eps = k.eps();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        // Elementwise, so splitting across the kernel threads cannot change a single bit of the result.
        CpuThreads.parallelFor(chunks, 1, (lo, hi) -> {
            long start = (long) lo * CHUNK;
            long end = Math.min(n, (long) hi * CHUNK);
            long bound = start + S.loopBound(end - start);
            int lanes = S.length();
            long i = start;
            for (; i < bound; i += lanes) {
                long b = i * Float.BYTES;
                FloatVector pv = FloatVector.fromMemorySegment(S, ps, po + b, ORDER);
                FloatVector gv = FloatVector.fromMemorySegment(S, gs, go + b, ORDER);
                FloatVector mv = FloatVector.fromMemorySegment(S, ms, mo + b, ORDER);
                FloatVector vv = FloatVector.fromMemorySegment(S, vs, vo + b, ORDER);
                pv = pv.mul(decay);
                mv = mv.mul(b1).add(gv.mul(ob1));
                vv = vv.mul(b2).add(gv.mul(gv).mul(ob2));
                FloatVector denom = vv.sqrt().mul(invBc2Sqrt).add(eps);
                pv = pv.sub(mv.mul(stepSize).div(denom));
                pv.intoMemorySegment(ps, po + b, ORDER);
                mv.intoMemorySegment(ms, mo + b, ORDER);
                vv.intoMemorySegment(vs, vo + b, ORDER);
            }
            for (; i < end; i++) {
                long b = i * Float.BYTES;
                float pv = ps.get(ValueLayout.JAVA_FLOAT, po + b);
                float gv = gs.get(ValueLayout.JAVA_FLOAT, go + b);
                float mv = ms.get(ValueLayout.JAVA_FLOAT, mo + b);
                float vv = vs.get(ValueLayout.JAVA_FLOAT, vo + b);
                pv = pv * decay;
                mv = mv * b1 + gv * ob1;
                vv = vv * b2 + gv * gv * ob2;
                float denom = (float) Math.sqrt(vv) * invBc2Sqrt + eps;
                pv = pv - mv * stepSize / denom;
                ps.set(ValueLayout.JAVA_FLOAT, po + b, pv);
                ms.set(ValueLayout.JAVA_FLOAT, mo + b, mv);
                vs.set(ValueLayout.JAVA_FLOAT, vo + b, vv);
            }
        });
    }
}

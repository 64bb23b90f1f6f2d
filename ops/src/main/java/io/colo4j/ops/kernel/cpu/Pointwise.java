package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Elementwise kernels: binary with broadcasting, activations and their derivatives, dropout masks. */
final class Pointwise {
    private Pointwise() {}

    /** Walks the output row by row (last dim); a and b may have stride 0 (broadcast) or any stride. */
    static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        int[] shape = out.shape();
        int rank = shape.length;
        int n = rank == 0 ? 1 : shape[rank - 1];
        long rows = n == 0 ? 0 : out.numel() / n;
        long[] sa = a.strides();
        long[] sb = b.strides();
        long[] so = out.strides();
        long ia = rank == 0 ? 0 : sa[rank - 1];
        long ib = rank == 0 ? 0 : sb[rank - 1];
        MemorySegment ma = a.segment();
        MemorySegment mb = b.segment();
        MemorySegment mo = out.segment();
        CpuThreads.parallelFor(Math.toIntExact(rows), Vec.rowGrain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                long oa = a.offset();
                long ob = b.offset();
                long oo = out.offset();
                long rest = r;
                for (int d = rank - 2; d >= 0; d--) {
                    long i = rest % shape[d];
                    rest /= shape[d];
                    oa += i * sa[d];
                    ob += i * sb[d];
                    oo += i * so[d];
                }
                binaryRow(op, ma, oa, ia, mb, ob, ib, mo, oo, n);
            }
        });
    }

    private static void binaryRow(BinaryOp op, MemorySegment ma, long oa, long ia, MemorySegment mb, long ob, long ib,
                                  MemorySegment mo, long oo, int n) {
        int i = 0;
        if ((ia == 1 || ia == 0) && (ib == 1 || ib == 0)) {
            FloatVector va = ia == 0 ? FloatVector.broadcast(S, Vec.get(ma, oa)) : null;
            FloatVector vb = ib == 0 ? FloatVector.broadcast(S, Vec.get(mb, ob)) : null;
            int bound = S.loopBound(n);
            for (; i < bound; i += L) {
                FloatVector x = va != null ? va : Vec.load(ma, oa + i);
                FloatVector y = vb != null ? vb : Vec.load(mb, ob + i);
                FloatVector z = switch (op) {
                    case ADD -> x.add(y);
                    case SUB -> x.sub(y);
                    case MUL -> x.mul(y);
                    case DIV -> x.div(y);
                };
                Vec.store(z, mo, oo + i);
            }
        }
        for (; i < n; i++) {
            Vec.set(mo, oo + i, op.apply(Vec.get(ma, oa + i * ia), Vec.get(mb, ob + i * ib)));
        }
    }

    static void unary(UnaryOp op, Tensor x, Tensor out) {
        MemorySegment mx = x.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long oo = out.offset();
        int n = Math.toIntExact(out.numel());
        CpuThreads.parallelFor(n, 1 << 14, (from, to) -> {
            int i = from;
            int bound = from + S.loopBound(to - from);
            for (; i < bound; i += L) {
                Vec.store(unaryVector(op, Vec.load(mx, ox + i)), mo, oo + i);
            }
            for (; i < to; i++) {
                Vec.set(mo, oo + i, op.apply(Vec.get(mx, ox + i)));
            }
        });
    }

    private static FloatVector unaryVector(UnaryOp op, FloatVector x) {
        return switch (op) {
            case GELU_TANH -> {
                FloatVector inner = x.mul(x).mul(x).mul(UnaryOp.GELU_COEF).add(x).mul(UnaryOp.SQRT_2_OVER_PI);
                yield VecMath.tanh(inner).add(1f).mul(x).mul(0.5f);
            }
            case RELU -> x.max(0f);
            case SILU -> x.div(VecMath.exp(x.neg()).add(1f));
            case EXP -> VecMath.exp(x);
            case NEG -> x.neg();
            case TANH -> VecMath.tanh(x);
        };
    }

    static void unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, Tensor gradIn) {
        MemorySegment mx = x.segment();
        MemorySegment mg = gradOut.segment();
        MemorySegment mo = gradIn.segment();
        long ox = x.offset();
        long og = gradOut.offset();
        long oo = gradIn.offset();
        int n = Math.toIntExact(gradIn.numel());
        CpuThreads.parallelFor(n, 1 << 14, (from, to) -> {
            int i = from;
            int bound = from + S.loopBound(to - from);
            for (; i < bound; i += L) {
                Vec.store(derivativeVector(op, Vec.load(mx, ox + i)).mul(Vec.load(mg, og + i)), mo, oo + i);
            }
            for (; i < to; i++) {
                Vec.set(mo, oo + i, op.derivative(Vec.get(mx, ox + i)) * Vec.get(mg, og + i));
            }
        });
    }

    private static FloatVector derivativeVector(UnaryOp op, FloatVector x) {
        return switch (op) {
            case GELU_TANH -> {
                FloatVector x2 = x.mul(x);
                FloatVector t = VecMath.tanh(x2.mul(UnaryOp.GELU_COEF).add(1f).mul(x).mul(UnaryOp.SQRT_2_OVER_PI));
                FloatVector dInner = x2.mul(3f * UnaryOp.GELU_COEF).add(1f).mul(UnaryOp.SQRT_2_OVER_PI);
                FloatVector oneMinusT2 = t.mul(t).neg().add(1f);
                yield t.add(1f).mul(0.5f).add(x.mul(0.5f).mul(oneMinusT2).mul(dInner));
            }
            case RELU -> FloatVector.broadcast(S, 0f).blend(1f, x.compare(VectorOperators.GT, 0f));
            case SILU -> {
                FloatVector s = VecMath.exp(x.neg()).add(1f);
                s = FloatVector.broadcast(S, 1f).div(s);
                yield s.mul(x.mul(s.neg().add(1f)).add(1f));
            }
            case EXP -> VecMath.exp(x);
            case NEG -> FloatVector.broadcast(S, -1f);
            case TANH -> {
                FloatVector t = VecMath.tanh(x);
                yield t.mul(t).neg().add(1f);
            }
        };
    }

    static void dropoutMask(float p, long seed, Tensor mask) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        }
        float keep = 1f / (1f - p);
        MemorySegment m = mask.segment();
        long off = mask.offset();
        int n = Math.toIntExact(mask.numel());
        CpuThreads.parallelFor(n, 1 << 14, (from, to) -> {
            for (int i = from; i < to; i++) {
                Vec.set(m, off + i, Init.Random.unit(seed, i) <= p ? 0f : keep);
            }
        });
    }
}

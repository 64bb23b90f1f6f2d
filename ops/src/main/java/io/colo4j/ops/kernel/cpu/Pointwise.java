package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/** Elementwise kernels: binary with broadcasting, activations ({@link UnaryOp}'s vector forms) and their derivatives. */
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
            // never null, so that x is always a vector of one exact class (a maybe-null one made x.add(y) a virtual call,
            // boxed: ~14 MB per GPT-2 small step at tp 2; Vec.ONE's note)
            FloatVector va = FloatVector.broadcast(S, ia == 0 ? Vec.get(ma, oa) : 0f);
            FloatVector vb = FloatVector.broadcast(S, ib == 0 ? Vec.get(mb, ob) : 0f);
            int bound = S.loopBound(n);
            for (; i < bound; i += L) {
                FloatVector x = ia == 0 ? va : FloatVector.fromMemorySegment(S, ma, (oa + i) * Float.BYTES, Vec.ORDER);
                FloatVector y = ib == 0 ? vb : FloatVector.fromMemorySegment(S, mb, (ob + i) * Float.BYTES, Vec.ORDER);
                FloatVector z = switch (op) {
                    case ADD -> x.add(y);
                    case SUB -> x.sub(y);
                    case MUL -> x.mul(y);
                    case DIV -> x.div(y);
                };
                z.intoMemorySegment(mo, (oo + i) * Float.BYTES, Vec.ORDER);
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
        CpuThreads.parallelFor(n, 1 << 14, (from, to) -> UnaryLoops.forward(op, mx, ox, null, mo, oo, from, to));
    }

    /** out = op(x + bias) row by row, one pass (bias [n], x and out contiguous [..., n]). */
    static void biasUnary(UnaryOp op, Tensor x, Tensor bias, Tensor out) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        MemorySegment mx = x.segment();
        MemorySegment mb = bias.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long ob = bias.offset();
        long oo = out.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            float[] b = biasArray(mb, ob, n);
            for (int r = from; r < to; r++) {
                UnaryLoops.forward(op, mx, ox + (long) r * n, b, mo, oo + (long) r * n, 0, n);
            }
        });
    }

    /** gradIn = op'(x + bias) gradOut row by row, one pass. */
    static void biasUnaryBackward(UnaryOp op, Tensor x, Tensor bias, Tensor gradOut, Tensor gradIn) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        MemorySegment mx = x.segment();
        MemorySegment mb = bias.segment();
        MemorySegment mg = gradOut.segment();
        MemorySegment mo = gradIn.segment();
        long ox = x.offset();
        long ob = bias.offset();
        long og = gradOut.offset();
        long oo = gradIn.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            float[] b = biasArray(mb, ob, n);
            for (int r = from; r < to; r++) {
                long row = (long) r * n;
                UnaryLoops.backward(op, mx, ox + row, b, mg, og + row, mo, oo + row, 0, n);
            }
        });
    }

    /**
     * This thread's copy of the bias on the heap: its loads in the activation's loop then cost one hoisted range check
     * instead of a segment access's checks every vector (the loop is bound by its instruction count; 1.15x measured).
     */
    private static float[] biasArray(MemorySegment mb, long ob, int n) {
        float[] b = RowArrays.first(n);
        MemorySegment.copy(mb, Vec.F, ob * Float.BYTES, b, 0, n);
        return b;
    }

    static void unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, Tensor gradIn) {
        MemorySegment mx = x.segment();
        MemorySegment mg = gradOut.segment();
        MemorySegment mo = gradIn.segment();
        long ox = x.offset();
        long og = gradOut.offset();
        long oo = gradIn.offset();
        int n = Math.toIntExact(gradIn.numel());
        CpuThreads.parallelFor(n, 1 << 14, (from, to) -> UnaryLoops.backward(op, mx, ox, null, mg, og, mo, oo, from, to));
    }
}

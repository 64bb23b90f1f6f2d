package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.ORDER;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.ops.kernel.UnaryOp;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The loops of the elementwise activations, one compiled loop per {@link UnaryOp}. A vector that crosses a call C2
 * did not inline is boxed on the heap: one shared loop calling {@code op.apply} sees every op a process uses and
 * stops inlining that call, which allocates a vector object per 16 floats (and the garbage collector's page faults
 * with it). The switch hands each op a loop of its own in which the op is a constant, so its vector form is bound
 * statically; the loops store through the JDK's force-inlined {@code intoMemorySegment} (not a helper of ours), which
 * C2 inlines even after a long activation used up its inlining budget.
 */
final class UnaryLoops {
    private UnaryLoops() {}

    /** out[i] = op(x[i]) for i in [from, to); offsets in floats. */
    static void forward(UnaryOp op, MemorySegment mx, long ox, MemorySegment mo, long oo, int from, int to) {
        switch (op) {
            case GELU_TANH -> forwardOf(UnaryOp.GELU_TANH, mx, ox, mo, oo, from, to);
            case RELU -> forwardOf(UnaryOp.RELU, mx, ox, mo, oo, from, to);
            case SILU -> forwardOf(UnaryOp.SILU, mx, ox, mo, oo, from, to);
            case EXP -> forwardOf(UnaryOp.EXP, mx, ox, mo, oo, from, to);
            case NEG -> forwardOf(UnaryOp.NEG, mx, ox, mo, oo, from, to);
            case TANH -> forwardOf(UnaryOp.TANH, mx, ox, mo, oo, from, to);
            case GELU_ERF -> forwardOf(UnaryOp.GELU_ERF, mx, ox, mo, oo, from, to);
        }
    }

    /** gradIn[i] = op'(x[i]) * gradOut[i] for i in [from, to). */
    static void backward(UnaryOp op, MemorySegment mx, long ox, MemorySegment mg, long og, MemorySegment mo, long oo,
                         int from, int to) {
        switch (op) {
            case GELU_TANH -> backwardOf(UnaryOp.GELU_TANH, mx, ox, mg, og, mo, oo, from, to);
            case RELU -> backwardOf(UnaryOp.RELU, mx, ox, mg, og, mo, oo, from, to);
            case SILU -> backwardOf(UnaryOp.SILU, mx, ox, mg, og, mo, oo, from, to);
            case EXP -> backwardOf(UnaryOp.EXP, mx, ox, mg, og, mo, oo, from, to);
            case NEG -> backwardOf(UnaryOp.NEG, mx, ox, mg, og, mo, oo, from, to);
            case TANH -> backwardOf(UnaryOp.TANH, mx, ox, mg, og, mo, oo, from, to);
            case GELU_ERF -> backwardOf(UnaryOp.GELU_ERF, mx, ox, mg, og, mo, oo, from, to);
        }
    }

    private static void forwardOf(UnaryOp op, MemorySegment mx, long ox, MemorySegment mo, long oo, int from, int to) {
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += L) {
            op.apply(Vec.load(mx, ox + i)).intoMemorySegment(mo, (oo + i) * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            Vec.set(mo, oo + i, op.apply(Vec.get(mx, ox + i)));
        }
    }

    private static void backwardOf(UnaryOp op, MemorySegment mx, long ox, MemorySegment mg, long og, MemorySegment mo,
                                   long oo, int from, int to) {
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += L) {
            FloatVector g = Vec.load(mg, og + i);
            op.derivative(Vec.load(mx, ox + i)).mul(g).intoMemorySegment(mo, (oo + i) * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            Vec.set(mo, oo + i, op.derivative(Vec.get(mx, ox + i)) * Vec.get(mg, og + i));
        }
    }
}

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
 * with it). Each op has a loop of its own in which the op is a constant, so its vector form is bound statically;
 * the loops store through the JDK's force-inlined {@code intoMemorySegment} (not a helper of ours), which
 * C2 inlines even after a long activation used up its inlining budget. Tails run the vector form on one lane: an
 * element's bits then never depend on where a range or row ends (how many threads split the loop).
 */
final class UnaryLoops {
    private UnaryLoops() {}

    /**
     * out[i] = op(x[i] + bias[i]) for i in [from, to), offsets in floats; without a bias (null) op(x[i]).
     * The null test is loop-invariant: C2 unswitches the loop on it.
     */
    static void forward(UnaryOp op, MemorySegment mx, long ox, float[] bias, MemorySegment mo, long oo,
                        int from, int to) {
        FORWARD[op.ordinal()].run(mx, ox, bias, mo, oo, from, to);
    }

    /** gradIn[i] = op'(x[i] + bias[i]) * gradOut[i] for i in [from, to); without a bias op'(x[i]) * gradOut[i]. */
    static void backward(UnaryOp op, MemorySegment mx, long ox, float[] bias, MemorySegment mg, long og,
                         MemorySegment mo, long oo, int from, int to) {
        BACKWARD[op.ordinal()].run(mx, ox, bias, mg, og, mo, oo, from, to);
    }

    /**
     * One op's forward loop, a class of its own per op. Called through an array, not a switch of direct calls: C2
     * inlined every case a process had taken into the switch's compilation, and with several activations seen (a test
     * run, or a model with two) the node budget ran out inside gelu's derivative, which then boxed a vector per 16
     * floats (80 KB per 16K-float bias + gelu backward). A call site that sees three or more ops is now a virtual call,
     * and each op's loop is compiled on its own.
     */
    private interface ForwardLoop {
        void run(MemorySegment mx, long ox, float[] bias, MemorySegment mo, long oo, int from, int to);
    }

    /** One op's backward loop, a class of its own per op (see {@link ForwardLoop}). */
    private interface BackwardLoop {
        void run(MemorySegment mx, long ox, float[] bias, MemorySegment mg, long og, MemorySegment mo, long oo,
                 int from, int to);
    }

    private static final ForwardLoop[] FORWARD = new ForwardLoop[UnaryOp.values().length];
    private static final BackwardLoop[] BACKWARD = new BackwardLoop[UnaryOp.values().length];

    static {
        for (UnaryOp op : UnaryOp.values()) {
            FORWARD[op.ordinal()] = forwardLoop(op);
            BACKWARD[op.ordinal()] = backwardLoop(op);
        }
    }

    /** Each case a lambda of its own in which the op is a constant, so its vector form is bound statically. */
    private static ForwardLoop forwardLoop(UnaryOp op) {
        return switch (op) {
            case GELU_TANH -> (mx, ox, bias, mo, oo, from, to) -> forwardOf(UnaryOp.GELU_TANH, mx, ox, bias, mo, oo, from, to);
            case RELU -> (mx, ox, bias, mo, oo, from, to) -> forwardOf(UnaryOp.RELU, mx, ox, bias, mo, oo, from, to);
            case SILU -> (mx, ox, bias, mo, oo, from, to) -> forwardOf(UnaryOp.SILU, mx, ox, bias, mo, oo, from, to);
            case EXP -> (mx, ox, bias, mo, oo, from, to) -> forwardOf(UnaryOp.EXP, mx, ox, bias, mo, oo, from, to);
            case NEG -> (mx, ox, bias, mo, oo, from, to) -> forwardOf(UnaryOp.NEG, mx, ox, bias, mo, oo, from, to);
            case TANH -> (mx, ox, bias, mo, oo, from, to) -> forwardOf(UnaryOp.TANH, mx, ox, bias, mo, oo, from, to);
            case GELU_ERF -> (mx, ox, bias, mo, oo, from, to) -> forwardOf(UnaryOp.GELU_ERF, mx, ox, bias, mo, oo, from, to);
        };
    }

    private static BackwardLoop backwardLoop(UnaryOp op) {
        return switch (op) {
            case GELU_TANH -> (mx, ox, bias, mg, og, mo, oo, from, to) -> backwardOf(UnaryOp.GELU_TANH, mx, ox, bias, mg, og, mo, oo, from, to);
            case RELU -> (mx, ox, bias, mg, og, mo, oo, from, to) -> backwardOf(UnaryOp.RELU, mx, ox, bias, mg, og, mo, oo, from, to);
            case SILU -> (mx, ox, bias, mg, og, mo, oo, from, to) -> backwardOf(UnaryOp.SILU, mx, ox, bias, mg, og, mo, oo, from, to);
            case EXP -> (mx, ox, bias, mg, og, mo, oo, from, to) -> backwardOf(UnaryOp.EXP, mx, ox, bias, mg, og, mo, oo, from, to);
            case NEG -> (mx, ox, bias, mg, og, mo, oo, from, to) -> backwardOf(UnaryOp.NEG, mx, ox, bias, mg, og, mo, oo, from, to);
            case TANH -> (mx, ox, bias, mg, og, mo, oo, from, to) -> backwardOf(UnaryOp.TANH, mx, ox, bias, mg, og, mo, oo, from, to);
            case GELU_ERF -> (mx, ox, bias, mg, og, mo, oo, from, to) -> backwardOf(UnaryOp.GELU_ERF, mx, ox, bias, mg, og, mo, oo, from, to);
        };
    }

    private static void forwardOf(UnaryOp op, MemorySegment mx, long ox, float[] bias, MemorySegment mo,
                                  long oo, int from, int to) {
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, mx, (ox + i) * Float.BYTES, Vec.ORDER);
            if (bias != null) {
                x = x.add(FloatVector.fromArray(S, bias, i));
            }
            op.apply(x).intoMemorySegment(mo, (oo + i) * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            float x = Vec.get(mx, ox + i);
            Vec.set(mo, oo + i, op.apply(FloatVector.broadcast(S, bias == null ? x : x + bias[i])).lane(0));
        }
    }

    private static void backwardOf(UnaryOp op, MemorySegment mx, long ox, float[] bias, MemorySegment mg,
                                   long og, MemorySegment mo, long oo, int from, int to) {
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromMemorySegment(S, mg, (og + i) * Float.BYTES, Vec.ORDER);
            FloatVector x = FloatVector.fromMemorySegment(S, mx, (ox + i) * Float.BYTES, Vec.ORDER);
            if (bias != null) {
                x = x.add(FloatVector.fromArray(S, bias, i));
            }
            op.derivative(x).mul(g).intoMemorySegment(mo, (oo + i) * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            float x = Vec.get(mx, ox + i);
            float d = op.derivative(FloatVector.broadcast(S, bias == null ? x : x + bias[i])).lane(0);
            Vec.set(mo, oo + i, d * Vec.get(mg, og + i));
        }
    }
}

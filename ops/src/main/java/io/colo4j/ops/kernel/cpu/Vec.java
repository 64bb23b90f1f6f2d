package io.colo4j.ops.kernel.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Float-indexed vector and scalar access to off-heap memory, shared by the CPU kernels. */
final class Vec {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder ORDER = ByteOrder.nativeOrder();
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /**
     * 1 in every lane: {@code ONE.mul(v)} is v, bit for bit (NaN and -0 too), with an exact type. A vector carried
     * round a loop is typed by C2 as the abstract {@code FloatVector}, so a call on it is virtual, inlined only where
     * the JDK method's profile names one class; where that profile was empty or saw several species, the call stayed
     * virtual and boxed its vectors (136 MB per causal softmax call, ~50 MB per GPT-2 step in cross-entropy's max, in
     * some processes). So kernels keep carried vectors as arguments (x.add(sum), not sum.add(x)) and pass them through
     * {@code ONE.mul} before a call on them after the loop.
     */
    static final FloatVector ONE = FloatVector.broadcast(S, 1f);

    private Vec() {}

    // No load/store helpers: a method returning or taking a vector is boxed (a heap object per call) wherever C2
    // does not inline it, which depends on what the JVM compiled before (seen as 85 bytes per float in layer norm
    // backward, 8 in bias_dropout_add, in some test JVMs); kernels call the JDK's force-inlined
    // FloatVector.fromMemorySegment / intoMemorySegment directly.

    static float get(MemorySegment seg, long index) {
        return seg.getAtIndex(F, index);
    }

    static void set(MemorySegment seg, long index, float value) {
        seg.setAtIndex(F, index, value);
    }

    /** Rows per parallel task so each task touches at least ~16K floats. */
    static int rowGrain(int rowLength) {
        return Math.max(1, (1 << 14) / Math.max(rowLength, 1));
    }
}

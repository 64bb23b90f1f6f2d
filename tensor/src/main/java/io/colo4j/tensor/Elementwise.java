package io.colo4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The contiguous loops the tensor module itself needs: gradient accumulation, scaling and copies. */
final class Elementwise {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private Elementwise() {}

    /** dst[dstOff + i] += src[srcOff + i] for i < n (offsets in floats), on the cores {@link HostLoops} gives. */
    static void addInto(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        HostLoops.forFloats(n, (from, to) -> addIntoRange(src, srcOff + from, dst, dstOff + from, to - from), src, dst);
    }

    private static void addIntoRange(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        long i = 0;
        long bound = SPECIES.loopBound(n);
        long sb = srcOff * Float.BYTES;
        long db = dstOff * Float.BYTES;
        for (; i < bound; i += SPECIES.length()) {
            FloatVector a = FloatVector.fromMemorySegment(SPECIES, src, sb + i * Float.BYTES, ORDER);
            FloatVector b = FloatVector.fromMemorySegment(SPECIES, dst, db + i * Float.BYTES, ORDER);
            a.add(b).intoMemorySegment(dst, db + i * Float.BYTES, ORDER);
        }
        for (; i < n; i++) {
            dst.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, dstOff + i,
                    dst.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, dstOff + i)
                            + src.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, srcOff + i));
        }
    }

    static void scale(MemorySegment seg, long off, long n, float factor) {
        HostLoops.forFloats(n, (from, to) -> scaleRange(seg, off + from, to - from, factor), seg);
    }

    /** Contiguous floats src[srcOff, srcOff + n) to dst[dstOff, ...), on the cores {@link HostLoops} gives. */
    static void copy(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        HostLoops.forFloats(n, (from, to) -> MemorySegment.copy(src, (srcOff + from) * Float.BYTES,
                dst, (dstOff + from) * Float.BYTES, (to - from) * Float.BYTES), src, dst);
    }

    private static void scaleRange(MemorySegment seg, long off, long n, float factor) {
        long i = 0;
        long bound = SPECIES.loopBound(n);
        long base = off * Float.BYTES;
        for (; i < bound; i += SPECIES.length()) {
            FloatVector.fromMemorySegment(SPECIES, seg, base + i * Float.BYTES, ORDER).mul(factor)
                    .intoMemorySegment(seg, base + i * Float.BYTES, ORDER);
        }
        for (; i < n; i++) {
            seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, off + i,
                    seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, off + i) * factor);
        }
    }
}

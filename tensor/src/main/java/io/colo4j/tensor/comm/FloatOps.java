package io.colo4j.tensor.comm;

import io.colo4j.tensor.Shapes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The loops the collectives need: rank-ordered sums and block / strided copies of float buffers. */
final class FloatOps {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Floats per vector, used to align work splits to whole vectors (and 64-byte lines for 16 floats). */
    static final int LANES = SPECIES.length();
    /**
     * 1 in every lane, to give a sum carried round a loop an exact type again ({@code ONE.mul(s)} is s, bit for bit):
     * C2 types a loop's carried vector as the abstract {@code FloatVector}, and a call on it that its profile does not
     * resolve stays virtual and boxes (see the ops module's {@code Vec.ONE}). The sums below keep it an argument.
     */
    private static final FloatVector ONE = FloatVector.broadcast(SPECIES, 1f);

    private FloatOps() {}

    /**
     * {@code dst[i] = ((src[0][i] + src[1][i]) + src[2][i]) + ...} for {@code i < count}, with every source read at
     * {@code srcByteOff} and the destination at {@code dstByteOff}. The order is the rank order on every
     * caller, so every rank gets bitwise the same sum. {@code dst} may be one of the sources (same offset).
     */
    static void sum(MemorySegment[] src, long srcByteOff, MemorySegment dst, long dstByteOff, long count) {
        if (src.length == 2) {
            sum2(src[0], src[1], srcByteOff, dst, dstByteOff, count);
            return;
        }
        int k = src.length;
        long i = 0;
        long bound = SPECIES.loopBound(count);
        int step = SPECIES.length();
        for (; i < bound; i += step) {
            long so = srcByteOff + i * Float.BYTES;
            FloatVector acc = FloatVector.fromMemorySegment(SPECIES, src[0], so, ORDER);
            for (int j = 1; j < k; j++) {
                acc = FloatVector.fromMemorySegment(SPECIES, src[j], so, ORDER).add(acc);
            }
            ONE.mul(acc).intoMemorySegment(dst, dstByteOff + i * Float.BYTES, ORDER);
        }
        for (; i < count; i++) {
            long so = srcByteOff + i * Float.BYTES;
            float acc = src[0].get(FLOAT, so);
            for (int j = 1; j < k; j++) {
                acc += src[j].get(FLOAT, so);
            }
            dst.set(FLOAT, dstByteOff + i * Float.BYTES, acc);
        }
    }

    /**
     * For {@code i < count}: {@code s = ((buf[0][i] + buf[1][i]) + buf[2][i]) + ...}, then {@code buf[j][i] = s}
     * for every j, all at byte offset {@code byteOff}. One pass that reads and writes each element of every
     * buffer once: the whole of an in-place all-reduce for the range.
     */
    static void sumToAll(MemorySegment[] buf, long byteOff, long count) {
        int k = buf.length;
        long i = 0;
        long bound = SPECIES.loopBound(count);
        int step = SPECIES.length();
        if (k == 2) {
            MemorySegment a = buf[0];
            MemorySegment b = buf[1];
            for (; i < bound; i += step) {
                long o = byteOff + i * Float.BYTES;
                FloatVector s = FloatVector.fromMemorySegment(SPECIES, a, o, ORDER)
                        .add(FloatVector.fromMemorySegment(SPECIES, b, o, ORDER));
                s.intoMemorySegment(a, o, ORDER);
                s.intoMemorySegment(b, o, ORDER);
            }
        } else {
            for (; i < bound; i += step) {
                long o = byteOff + i * Float.BYTES;
                FloatVector s = FloatVector.fromMemorySegment(SPECIES, buf[0], o, ORDER);
                for (int j = 1; j < k; j++) {
                    s = FloatVector.fromMemorySegment(SPECIES, buf[j], o, ORDER).add(s);
                }
                s = ONE.mul(s);
                for (int j = 0; j < k; j++) {
                    s.intoMemorySegment(buf[j], o, ORDER);
                }
            }
        }
        for (; i < count; i++) {
            long o = byteOff + i * Float.BYTES;
            float s = buf[0].get(FLOAT, o);
            for (int j = 1; j < k; j++) {
                s += buf[j].get(FLOAT, o);
            }
            for (int j = 0; j < k; j++) {
                buf[j].set(FLOAT, o, s);
            }
        }
    }

    private static void sum2(MemorySegment a, MemorySegment b, long srcByteOff, MemorySegment dst, long dstByteOff, long count) {
        long i = 0;
        long bound = SPECIES.loopBound(count);
        int step = SPECIES.length();
        for (; i < bound; i += step) {
            long so = srcByteOff + i * Float.BYTES;
            FloatVector.fromMemorySegment(SPECIES, a, so, ORDER)
                    .add(FloatVector.fromMemorySegment(SPECIES, b, so, ORDER))
                    .intoMemorySegment(dst, dstByteOff + i * Float.BYTES, ORDER);
        }
        for (; i < count; i++) {
            long so = srcByteOff + i * Float.BYTES;
            dst.set(FLOAT, dstByteOff + i * Float.BYTES, a.get(FLOAT, so) + b.get(FLOAT, so));
        }
    }

    /**
     * {@code blocks} runs of {@code run} floats: run o goes from {@code src[srcOff + o*srcStride]} to
     * {@code dst[dstOff + o*dstStride]} (all in floats).
     */
    static void copyBlocks(MemorySegment src, long srcOff, long srcStride,
                           MemorySegment dst, long dstOff, long dstStride, long blocks, long run) {
        if (run == 0 || blocks == 0) {
            return;
        }
        if (blocks == 1 || (srcStride == run && dstStride == run)) {
            MemorySegment.copy(src, srcOff * Float.BYTES, dst, dstOff * Float.BYTES, blocks * run * Float.BYTES);
            return;
        }
        for (long o = 0; o < blocks; o++) {
            MemorySegment.copy(src, (srcOff + o * srcStride) * Float.BYTES, dst, (dstOff + o * dstStride) * Float.BYTES, run * Float.BYTES);
        }
    }

    /**
     * Copies part {@code part} of {@code parts} equal parts along {@code dim} of a contiguous tensor of
     * {@code shape} ({@code src}) into slot {@code slot} of {@code slots} along {@code dstDim} of a contiguous
     * tensor of {@code dstShape} ({@code dst}); the part's shape and the slot's shape must be the same.
     * Contiguous dims are coalesced so the innermost runs are as long as possible.
     */
    static void copyPart(MemorySegment src, int[] shape, int dim, int part, int parts,
                         MemorySegment dst, int[] dstShape, int dstDim, int slot, int slots) {
        int nd = shape.length;
        long[] sStr = Shapes.contiguousStrides(shape);
        long[] dStr = Shapes.contiguousStrides(dstShape);
        int[] pshape = shape.clone();
        pshape[dim] = shape[dim] / parts;
        long sOff = (long) part * pshape[dim] * sStr[dim];
        long dOff = (long) slot * (dstShape[dstDim] / slots) * dStr[dstDim];
        // coalesce: merge dim i into i+1 when both sides are contiguous across the pair
        int[] cs = new int[nd];
        long[] css = new long[nd];
        long[] cds = new long[nd];
        int m = 0;
        for (int i = 0; i < nd; i++) {
            if (pshape[i] == 1) {
                continue;
            }
            if (m > 0 && css[m - 1] == (long) pshape[i] * sStr[i] && cds[m - 1] == (long) pshape[i] * dStr[i]) {
                cs[m - 1] *= pshape[i];
                css[m - 1] = sStr[i];
                cds[m - 1] = dStr[i];
            } else {
                cs[m] = pshape[i];
                css[m] = sStr[i];
                cds[m] = dStr[i];
                m++;
            }
        }
        for (int d : pshape) {
            if (d == 0) {
                return;
            }
        }
        if (m == 0) {
            MemorySegment.copy(src, sOff * Float.BYTES, dst, dOff * Float.BYTES, Float.BYTES);
            return;
        }
        copyDims(0, m, cs, src, sOff, css, dst, dOff, cds);
    }

    private static void copyDims(int d, int m, int[] shape, MemorySegment src, long so, long[] ss,
                                 MemorySegment dst, long dO, long[] ds) {
        int n = shape[d];
        if (d == m - 1) {
            if (ss[d] == 1 && ds[d] == 1) {
                MemorySegment.copy(src, so * Float.BYTES, dst, dO * Float.BYTES, (long) n * Float.BYTES);
            } else {
                for (int i = 0; i < n; i++) {
                    dst.set(FLOAT, (dO + i * ds[d]) * Float.BYTES, src.get(FLOAT, (so + i * ss[d]) * Float.BYTES));
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            copyDims(d + 1, m, shape, src, so + i * ss[d], ss, dst, dO + i * ds[d], ds);
        }
    }
}

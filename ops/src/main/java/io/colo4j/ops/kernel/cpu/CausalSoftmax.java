package io.colo4j.ops.kernel.cpu;

import static io.colo4j.ops.kernel.cpu.Vec.F;
import static io.colo4j.ops.kernel.cpu.Vec.L;
import static io.colo4j.ops.kernel.cpu.Vec.S;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The scaled, causal-masked row softmax over [..., T, T]: row i of each block keeps columns 0..i, the rest are 0.
 *
 * <p>A group of rows (8 KB) is copied into a thread's heap arrays in one bulk copy, its rows are computed there and
 * the group goes back in one bulk copy. Why: a causal row is short and its passes run a few vectors each, and every
 * vector access to a {@code MemorySegment} pays its checks again (class, scope, bounds: about 20 instructions, not
 * hoisted out of a loop of 1 to 4 trips), which made the row passes cost 2 to 3 times their arithmetic; an array
 * access pays one bounds check. The bulk copies stream memory at copy speed, which a row's own short reads do not.
 *
 * <p>Its bits are its own, not the plain softmax's: the exps' lanes are summed lane-wise, then in a fixed tree of
 * halves, the same in every execution mode and for any split of the rows over threads, since each row is computed
 * alone. The masked future is written as exact zeros whatever the kept prefix holds (NaN included).
 */
final class CausalSoftmax {
    /**
     * Floats of one group of rows (8 KB: 32 rows of 64, one row at a time past 2048 columns), so that both arrays stay
     * in L1 beside everything else; 16 KB groups took ~20% more CPU per call at [.., 64, 64], 4 KB ones too.
     */
    private static final int GROUP_FLOATS = 1 << 11;
    private static final ThreadLocal<float[][]> BUFFERS =
            ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[0], new float[L * L]});
    /** Where row k of a batch puts its lane vector for {@link #reduceLanes}: k with its log2(L) bits reversed. */
    private static final int[] SLOT = slots();
    /** Per level of {@link #reduceLanes} (distance L/2, L/4, ...): the indexes that select its low and high lanes. */
    private static final FloatVector[] LOW = new FloatVector[4];
    private static final FloatVector[] HIGH = new FloatVector[4];

    static {
        if (L > 16) {
            throw new IllegalStateException("CausalSoftmax reduces at most 16 lanes, the species has " + L);
        }
        for (int level = 0, h = L / 2; level < 4; level++, h = Math.max(1, h / 2)) {
            LOW[level] = pairIndexes(h, 0);
            HIGH[level] = pairIndexes(h, h);
        }
    }

    private CausalSoftmax() {}

    private static int[] slots() {
        int bits = Integer.numberOfTrailingZeros(L);
        int[] slots = new int[L];
        for (int k = 0; k < L; k++) {
            slots[k] = bits == 0 ? 0 : Integer.reverse(k) >>> (32 - bits);
        }
        return slots;
    }

    /**
     * Output lane i of a level at distance h takes, from the first vector for even blocks of h lanes and from the
     * second for odd ones, lane {@code offset + p} of segment q / 2 of 2h lanes (q = i / h, p = i % h): the segment's
     * low half with offset 0, its high half with offset h. selectFrom numbers the second vector's lanes L..2L - 1.
     */
    private static FloatVector pairIndexes(int h, int offset) {
        float[] index = new float[L];
        for (int i = 0; i < L; i++) {
            int q = i / h;
            index[i] = (q % 2) * L + (q / 2) * 2 * h + offset + i % h;
        }
        return FloatVector.fromArray(S, index, 0);
    }

    static void forward(Tensor x, float scale, Tensor out) {
        int n = x.size(-1);
        if (x.dim() < 2 || x.size(-2) != n) {
            throw new IllegalArgumentException("causal softmax needs [..., T, T], got last dims "
                    + (x.dim() < 2 ? "[" + n + "]" : x.size(-2) + "x" + n));
        }
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        int group = Math.max(1, GROUP_FLOATS / Math.max(n, 1));
        MemorySegment mx = x.segment();
        MemorySegment mo = out.segment();
        long ox = x.offset();
        long oo = out.offset();
        CpuThreads.parallelFor(rows, Vec.rowGrain(n), (from, to) -> {
            float[][] buffers = buffers(group * n);
            float[] xa = buffers[0];
            float[] oa = buffers[1];
            float[] stats = buffers[2];
            float[] lanes = buffers[3];
            for (int b = from; b < to; b += group) {
                int end = Math.min(to, b + group);
                int floats = (end - b) * n;
                MemorySegment.copy(mx, F, (ox + (long) b * n) * Float.BYTES, xa, 0, floats);
                rows(xa, oa, floats, n, b % n + 1, scale, stats, lanes);
                MemorySegment.copy(oa, 0, mo, F, (oo + (long) b * n) * Float.BYTES, floats);
            }
        });
    }

    /**
     * This thread's arrays: the group's inputs and outputs, each at least {@code floats} long plus one vector (a row's
     * last vector stays inside), and a float per row.
     */
    private static float[][] buffers(int floats) {
        float[][] buffers = BUFFERS.get();
        if (buffers[0].length < floats + L) {
            buffers[0] = new float[floats + L];
            buffers[1] = new float[floats + L];
            buffers[2] = new float[floats + L];
        }
        return buffers;
    }

    /**
     * The group's rows, L at a time, pass by pass over them: their maxes, then their exps and sums, then the scaling
     * by 1 / sum and the zeros after. One row's passes are a chain of dependent reductions while the rows of a pass are
     * independent, so the core overlaps them; and the L rows' lane-wise maxes and sums are reduced together
     * ({@link #reduceLanes}), not each in a tree of its own. Row after row, with a tree per row, took 2x the CPU time
     * at [.., 64, 64]. Row k keeps {@code firstValid + k} columns, wrapping to 1 after n. Each pass is its own method
     * taking no vectors, so that none is boxed where C2 stops inlining.
     */
    private static void rows(float[] xa, float[] oa, int floats, int n, int firstValid, float scale, float[] stats,
                             float[] lanes) {
        int count = floats / n;
        for (int k0 = 0; k0 < count; k0 += L) {
            int batch = Math.min(L, count - k0);
            int first = (firstValid - 1 + k0) % n + 1;
            int valid = first;
            for (int k = 0; k < L; k++) {
                if (k < batch) {
                    maxLanes(xa, (k0 + k) * n, valid, lanes, SLOT[k] * L);
                    valid = valid == n ? 1 : valid + 1;
                } else {
                    Arrays.fill(lanes, SLOT[k] * L, SLOT[k] * L + L, Float.NEGATIVE_INFINITY);
                }
            }
            reduceLanes(lanes, true, scale, stats, k0, batch);
            valid = first;
            for (int k = 0; k < L; k++) {
                if (k < batch) {
                    expLanes(xa, oa, (k0 + k) * n, valid, scale, stats[k0 + k], lanes, SLOT[k] * L);
                    valid = valid == n ? 1 : valid + 1;
                } else {
                    Arrays.fill(lanes, SLOT[k] * L, SLOT[k] * L + L, 0f);
                }
            }
            reduceLanes(lanes, false, 1f, stats, k0, batch);
            valid = first;
            for (int k = 0; k < batch; k++) {
                scaleAndZero(oa, (k0 + k) * n, n, valid, stats[k0 + k]);
                valid = valid == n ? 1 : valid + 1;
            }
        }
    }

    /**
     * The lane-wise max over a row's first {@code valid}, by compare and blend (cheaper than {@code max}'s NaN and -0
     * rules, which change nothing here: a NaN in the row makes the sum, and so the row, NaN), into lanes[at..at + L).
     */
    private static void maxLanes(float[] xa, int base, int valid, float[] lanes, int at) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < valid; i += L) {
            VectorMask<Float> kept = S.indexInRange(i, valid);
            FloatVector v = FloatVector.fromArray(S, xa, base + i, kept);
            m = m.blend(v, v.compare(VectorOperators.GT, m, kept));
        }
        m.intoArray(lanes, at);
    }

    /** Stores e^(x scale - shift) over the first {@code valid} and their lane-wise sum into lanes[at..at + L). */
    private static void expLanes(float[] xa, float[] oa, int base, int valid, float scale, float shift, float[] lanes,
                                 int at) {
        FloatVector sum = FloatVector.zero(S);
        for (int i = 0; i < valid; i += L) {
            VectorMask<Float> kept = S.indexInRange(i, valid);
            FloatVector e = VecMath.expShifted(FloatVector.fromArray(S, xa, base + i, kept).mul(scale).sub(shift));
            e.intoArray(oa, base + i, kept);
            sum = sum.add(e, kept);
        }
        sum.intoArray(lanes, at);
    }

    /**
     * Reduces L rows' lane vectors (row k's at slot {@code SLOT[k]}) to one vector whose lane k is row k's max (times
     * {@code scale}) or 1 / its sum, stored for the batch's rows at stats[k0..). Each level pairs the vectors of two
     * rows: lanes i and i + h of every 2h-lane segment meet, from both vectors at once, so L rows take L - 1 steps of
     * two selects and one op where a tree per row took L log2(L). A row's lanes meet in the order of a tree of halves
     * (i with i ^ L/2, then ^ L/4, ...), the same association for every row, and with the bit-reversed slots the last
     * vector's lane k is row k.
     */
    private static void reduceLanes(float[] lanes, boolean max, float scale, float[] stats, int k0, int batch) {
        int vectors = L;
        for (int level = 0; vectors > 1; level++, vectors /= 2) {
            FloatVector lowIndex = level == 0 ? LOW[0] : level == 1 ? LOW[1] : level == 2 ? LOW[2] : LOW[3];
            FloatVector highIndex = level == 0 ? HIGH[0] : level == 1 ? HIGH[1] : level == 2 ? HIGH[2] : HIGH[3];
            for (int pair = 0; pair < vectors / 2; pair++) {
                FloatVector a = FloatVector.fromArray(S, lanes, 2 * pair * L);
                FloatVector b = FloatVector.fromArray(S, lanes, (2 * pair + 1) * L);
                FloatVector low = lowIndex.selectFrom(a, b);
                FloatVector high = highIndex.selectFrom(a, b);
                (max ? low.blend(high, high.compare(VectorOperators.GT, low)) : low.add(high)).intoArray(lanes, pair * L);
            }
        }
        FloatVector result = FloatVector.fromArray(S, lanes, 0);
        result = max ? result.mul(scale) : FloatVector.broadcast(S, 1f).div(result);
        result.intoArray(stats, k0, S.indexInRange(0, batch));
    }

    /** The kept exps times inv, a partial vector's other lanes and every later one zeros, up to the row's n. */
    private static void scaleAndZero(float[] oa, int base, int n, int valid, float inv) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= valid; i += L) {
            FloatVector.fromArray(S, oa, base + i).mul(inv).intoArray(oa, base + i);
        }
        if (i < valid) {
            zero.blend(FloatVector.fromArray(S, oa, base + i).mul(inv), S.indexInRange(i, valid))
                    .intoArray(oa, base + i, S.indexInRange(i, n));
            i += L;
        }
        for (; i + L <= n; i += L) {
            zero.intoArray(oa, base + i);
        }
        if (i < n) {
            zero.intoArray(oa, base + i, S.indexInRange(i, n));
        }
    }
}

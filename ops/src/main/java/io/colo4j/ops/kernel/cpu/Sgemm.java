package io.colo4j.ops.kernel.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on the CPU with the Vector API: {@code C = alpha * op(A) @ op(B) + beta * C} on
 * row-major float32 matrices in {@link MemorySegment}s.
 *
 * <p>Design (Goto/BLIS style):
 * <ul>
 *   <li>Loops: for each NC-column block of C, for each KC-deep block, op(B)[KC x NC] is packed into NR-wide panels
 *       {@code [kc][NR]}; then for each MC-row block, alpha * op(A)[MC x KC] is packed as rows {@code [mc][kc]};
 *       then for each B panel (KC x NR, 64 KiB, read from L1/L2) the micro-kernel sweeps all the A panels of the
 *       block (MC x KC, 384 KiB, kept in L2). Buffers are zero padded, per thread {@code float[]}s; packing absorbs
 *       both operands' transposes, so one kernel per tile height serves all four layouts.</li>
 *   <li>Micro-kernel: an MR x 2L tile of C in 2 MR vector accumulators; per step of k, 2 vector loads of B, MR
 *       broadcasts of A, 2 MR independent FMAs. MR is 6 with AVX-512 (L = 16: a 6 x 32 tile), 4 with AVX2 (L = 8:
 *       4 x 16), so that the tile fits the vector registers. The tile is merged into C once per KC
 *       block: stored on the first block when beta == 0 (so whatever C held, NaN included, is ignored), added
 *       otherwise. Edge tiles run the same kernel into a scratch tile that is merged with scalar code.</li>
 *   <li>Parallelism: the longer side of C is split into one block per thread of {@link CpuThreads#pool()}; each
 *       thread packs its own panels. Problems under {@code PARALLEL_MIN} (160^3) multiply-adds stay on the calling thread;
 *       batches of small problems are spread across the pool one problem per task. Tiny (&lt; 32^3) and skinny
 *       (m &lt;= 4, or n &lt; L) problems take an unpacked vector path (axpy rows or dot products).</li>
 * </ul>
 *
 * <p>All entry points validate their arguments and throw {@link IllegalArgumentException} naming "sgemm" and the
 * offending values. C must not overlap A or B (not checked). Thread-confined segments are computed on the calling
 * thread; heap segments through off-heap copies. Safe to call from many threads at once.
 */
public final class Sgemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Bytes per vector. */
    private static final long VB = (long) L * Float.BYTES;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Micro-tile rows (broadcasts of A per step) on this machine: 6 with 512-bit vectors, 4 below. The tile's 2 MR
     * accumulators, two vectors of B and the MR broadcasts, which C2 hoists to the top of the loop in some compiles,
     * must fit the vector registers: AVX2 has 16, and a 6-row tile there spilled five accumulators to the stack in
     * GPT-2's step, which ran its GEMMs at 63 GFLOP/s against 128 with 4 rows (Zen 3). AVX-512's 32 hold 6 rows, which
     * ran at 0.6-0.7 of the FMA peak on Zen 5 and Sapphire Rapids (4 rows there is unmeasured). The tile height never
     * changes a sum, only which rows share a loop.
     */
    static final int MR = S.vectorBitSize() >= 512 ? 6 : 4;
    /** The micro-tile heights there are kernels for. */
    static final int TALL = 6;
    static final int SHORT = 4;
    /** Micro-tile columns: two vectors. */
    static final int NR = 2 * L;
    private static final long TILE_ROW_BYTES = (long) NR * Float.BYTES;
    /** Depth of a packed block: a tile is merged into C once per KC, so KC fixes the order of the sums (and the bits). */
    static final int KC = Math.max(16, Integer.getInteger("colo4j.sgemm.kc", 512));
    /** Rows of the stored (transposed) A staged at a time when packing it: 16 x MC floats stay in L1. */
    private static final int TRANSPOSE_DEPTH = 16;
    /** Rows of A packed at a time (a multiple of both tile heights). */
    static final int MC = Math.max(1, Integer.getInteger("colo4j.sgemm.mc", 192) / 12) * 12;
    /** Columns of B packed at a time (a multiple of NR); large, to amortise packing A. */
    static final int NC = Math.max(1, Integer.getInteger("colo4j.sgemm.nc", 1024) / NR) * NR;

    /** Below this many multiply-adds, one thread and no packing. */
    static final long TINY = 32L * 32 * 32;
    /** Below this many multiply-adds, the packed path stays on one thread. */
    static final long PARALLEL_MIN = 160L * 160 * 160;
    /** Rows of C at most that take the unpacked (GEMV-like) path. */
    static final int SKINNY_M = 4;
    /** Depth staged at a time when packing a transposed B. */
    private static final int PB = 64;
    /** Columns of C per pass of the unpacked axpy form, so its accumulators stay in L1. */
    private static final int AXPY_COLS = 512;

    private static final int STORE = 0;
    private static final int ADD = 1;
    private static final int SCALE = 2;

    /** An unstarted thread: a segment it may access is usable from the pool threads too (i.e. not confined). */
    private static final Thread PROBE = new Thread(() -> { }, "colo4j-sgemm-probe");

    private Sgemm() {}

    /** C[m,n] = alpha * op(A) @ op(B) + beta * C, row-major; offsets and leading dims in float elements. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, long aOffset, int lda,
                             MemorySegment b, long bOffset, int ldb,
                             float beta, MemorySegment c, long cOffset, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, CpuThreads.threads());
    }

    /**
     * As {@link #sgemm(boolean, boolean, int, int, int, float, MemorySegment, long, int, MemorySegment, long, int,
     * float, MemorySegment, long, int)} on at most {@code threads} threads of the shared pool (1: the calling thread only).
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, long aOffset, int lda,
                             MemorySegment b, long bOffset, int ldb,
                             float beta, MemorySegment c, long cOffset, int ldc, int threads) {
        sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, threads, MR);
    }

    /** As the public form with a micro-tile of {@code tileRows} ({@link #TALL} or {@link #SHORT}): tests run both. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, long aOffset, int lda, MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc, int threads, int tileRows) {
        if (tileRows != TALL && tileRows != SHORT) {
            throw new IllegalArgumentException("sgemm: tile rows must be " + TALL + " or " + SHORT + ", got " + tileRows);
        }
        validate(transA, transB, 1, m, n, k, a, aOffset, 0, lda, b, bOffset, 0, ldb, c, cOffset, 0, ldc, threads);
        execute(transA, transB, 1, m, n, k, alpha, a, aOffset, 0, lda, b, bOffset, 0, ldb, beta, c, cOffset, 0, ldc, threads,
                tileRows);
    }

    /** The same for {@code batch} independent problems, each at base offset + i * stride (strides in floats). */
    public static void sgemmBatched(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                                    MemorySegment a, long aOffset, long strideA, int lda,
                                    MemorySegment b, long bOffset, long strideB, int ldb,
                                    float beta, MemorySegment c, long cOffset, long strideC, int ldc) {
        sgemmBatched(transA, transB, batch, m, n, k, alpha, a, aOffset, strideA, lda, b, bOffset, strideB, ldb,
                beta, c, cOffset, strideC, ldc, CpuThreads.threads());
    }

    /** {@link #sgemmBatched} on at most {@code threads} threads of the shared pool. */
    public static void sgemmBatched(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                                    MemorySegment a, long aOffset, long strideA, int lda,
                                    MemorySegment b, long bOffset, long strideB, int ldb,
                                    float beta, MemorySegment c, long cOffset, long strideC, int ldc, int threads) {
        validate(transA, transB, batch, m, n, k, a, aOffset, strideA, lda, b, bOffset, strideB, ldb, c, cOffset, strideC, ldc, threads);
        execute(transA, transB, batch, m, n, k, alpha, a, aOffset, strideA, lda, b, bOffset, strideB, ldb,
                beta, c, cOffset, strideC, ldc, threads, MR);
    }

    private static void execute(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                                MemorySegment a, long aOffset, long strideA, int lda,
                                MemorySegment b, long bOffset, long strideB, int ldb,
                                float beta, MemorySegment c, long cOffset, long strideC, int ldc, int threads, int tileRows) {
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (!a.isNative() || !b.isNative() || !c.isNative()) {
            onNativeCopies(transA, transB, batch, m, n, k, alpha, a, aOffset, strideA, lda, b, bOffset, strideB, ldb,
                    beta, c, cOffset, strideC, ldc, threads, tileRows);
            return;
        }
        Job job = new Job(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, tileRows);
        int t = effectiveThreads(threads, a, b, c);
        long work = (long) m * n * k;
        if (t == 1 || batch == 1 || work >= 4 * PARALLEL_MIN) {
            // each problem is big enough to be split on its own
            for (int i = 0; i < batch; i++) {
                job.run(aOffset + i * strideA, bOffset + i * strideB, cOffset + i * strideC, t);
            }
            return;
        }
        // many small problems: one thread per group of whole problems
        int perTask = (int) Math.max(1, Math.min((batch + t - 1) / t, PARALLEL_MIN / Math.max(1, work)));
        int tasks = (batch + perTask - 1) / perTask;
        CpuThreads.parallelFor(tasks, 1, (from, to) -> {
            for (int task = from; task < to; task++) {
                int end = Math.min(batch, (task + 1) * perTask);
                for (int i = task * perTask; i < end; i++) {
                    job.run(aOffset + i * strideA, bOffset + i * strideB, cOffset + i * strideC, 1);
                }
            }
        });
    }

    /**
     * Heap segments go through off-heap copies: vector access to them from the kernels would make those call sites
     * megamorphic, and C2 would then stop intrinsifying them for every later (off-heap) call in this JVM.
     */
    private static void onNativeCopies(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                                       MemorySegment a, long aOffset, long strideA, int lda,
                                       MemorySegment b, long bOffset, long strideB, int ldb,
                                       float beta, MemorySegment c, long cOffset, long strideC, int ldc, int threads,
                                       int tileRows) {
        try (Arena tmp = Arena.ofShared()) {
            long aStart = a.isNative() ? 0 : aOffset;
            long bStart = b.isNative() ? 0 : bOffset;
            long cStart = c.isNative() ? 0 : cOffset;
            MemorySegment na = a.isNative() ? a
                    : nativeCopy(tmp, a, aOffset, extent(strideA, lda, batch, transA ? k : m, transA ? m : k));
            MemorySegment nb = b.isNative() ? b
                    : nativeCopy(tmp, b, bOffset, extent(strideB, ldb, batch, transB ? n : k, transB ? k : n));
            MemorySegment nc = c.isNative() ? c : nativeCopy(tmp, c, cOffset, extent(strideC, ldc, batch, m, n));
            execute(transA, transB, batch, m, n, k, alpha, na, aOffset - aStart, strideA, lda, nb, bOffset - bStart, strideB, ldb,
                    beta, nc, cOffset - cStart, strideC, ldc, threads, tileRows);
            if (!c.isNative()) {
                for (int q = 0; q < batch; q++) {
                    for (int i = 0; i < m; i++) {
                        long rel = q * strideC + (long) i * ldc;
                        MemorySegment.copy(nc, rel * Float.BYTES, c, (cOffset + rel) * Float.BYTES, (long) n * Float.BYTES);
                    }
                }
            }
        }
    }

    /** Floats from the first to one past the last element a batch of stored [rows, cols] matrices addresses. */
    private static long extent(long stride, int ld, int batch, int rows, int cols) {
        return rows == 0 || cols == 0 ? 0 : stride * (batch - 1) + (long) (rows - 1) * ld + cols;
    }

    private static MemorySegment nativeCopy(Arena arena, MemorySegment src, long offset, long floats) {
        MemorySegment dst = arena.allocate(Math.max(1, floats) * Float.BYTES, 64);
        if (floats > 0) {
            MemorySegment.copy(src, offset * Float.BYTES, dst, 0, floats * Float.BYTES);
        }
        return dst;
    }

    private static int effectiveThreads(int threads, MemorySegment a, MemorySegment b, MemorySegment c) {
        int t = Math.min(threads, CpuThreads.threads());
        if (t > 1 && !(a.isAccessibleBy(PROBE) && b.isAccessibleBy(PROBE) && c.isAccessibleBy(PROBE))) {
            t = 1; // a thread-confined segment: only the calling thread may touch it
        }
        return t;
    }

    // ---------------------------------------------------------------- validation

    private static void validate(boolean transA, boolean transB, int batch, int m, int n, int k,
                                 MemorySegment a, long aOffset, long strideA, int lda,
                                 MemorySegment b, long bOffset, long strideB, int ldb,
                                 MemorySegment c, long cOffset, long strideC, int ldc, int threads) {
        if (a == null || b == null || c == null) {
            throw new IllegalArgumentException("sgemm: null segment (a=" + a + ", b=" + b + ", c=" + c + ")");
        }
        if (batch < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("sgemm: negative size (batch=" + batch + ", m=" + m + ", n=" + n + ", k=" + k + ")");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("sgemm: threads must be >= 1, got " + threads);
        }
        if (c.isReadOnly()) {
            throw new IllegalArgumentException("sgemm: output segment c is read-only");
        }
        checkOperand("a", a, aOffset, strideA, lda, batch, transA ? k : m, transA ? m : k, transA);
        checkOperand("b", b, bOffset, strideB, ldb, batch, transB ? n : k, transB ? k : n, transB);
        checkOperand("c", c, cOffset, strideC, ldc, batch, m, n, false);
        if (batch > 1 && m > 0 && n > 0 && strideC < (long) (m - 1) * ldc + n) {
            throw new IllegalArgumentException("sgemm: output matrices overlap: strideC=" + strideC + " < (m-1)*ldc+n="
                    + ((long) (m - 1) * ldc + n) + " (batch=" + batch + ", m=" + m + ", n=" + n + ", ldc=" + ldc + ")");
        }
    }

    /** Checks a stored [rows, cols] matrix with row stride ld (and a batch of them) lies inside the segment. */
    private static void checkOperand(String name, MemorySegment seg, long offset, long stride, int ld, int batch,
                                     int rows, int cols, boolean trans) {
        String what = name + (trans ? " (transposed, stored " : " (stored ") + rows + "x" + cols + ")";
        if (offset < 0) {
            throw new IllegalArgumentException("sgemm: negative offset " + offset + " for " + what);
        }
        if (stride < 0) {
            throw new IllegalArgumentException("sgemm: negative batch stride " + stride + " for " + what);
        }
        if (ld < cols) {
            throw new IllegalArgumentException("sgemm: ld" + name + "=" + ld + " is less than the row width " + cols + " of " + what);
        }
        if (rows == 0 || cols == 0 || batch == 0) {
            return;
        }
        long end;
        try {
            long last = Math.addExact(Math.multiplyExact((long) (rows - 1), (long) ld), cols);
            end = Math.addExact(Math.addExact(offset, Math.multiplyExact(stride, (long) (batch - 1))), last);
            end = Math.multiplyExact(end, (long) Float.BYTES);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("sgemm: addressed range of " + what + " overflows (offset=" + offset
                    + ", ld=" + ld + ", stride=" + stride + ", batch=" + batch + ")");
        }
        if (end > seg.byteSize()) {
            throw new IllegalArgumentException("sgemm: segment " + name + " of " + seg.byteSize() / Float.BYTES
                    + " floats is too small for " + what + " at offset " + offset + " with ld" + name + "=" + ld
                    + (batch > 1 ? ", batch " + batch + " x stride " + stride : "") + ": needs " + end / Float.BYTES + " floats");
        }
    }

    // ---------------------------------------------------------------- driver

    /** One problem's shape and operands; offsets are passed per call so batched problems share the object. */
    private static final class Job {
        final boolean transA, transB;
        final int m, n, k, lda, ldb, ldc;
        final float alpha, beta;
        final MemorySegment a, b, c;
        /** Micro-tile rows. */
        final int mr;

        Job(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
            MemorySegment b, int ldb, float beta, MemorySegment c, int ldc, int mr) {
            this.mr = mr;
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.lda = lda;
            this.b = b;
            this.ldb = ldb;
            this.beta = beta;
            this.c = c;
            this.ldc = ldc;
        }

        void run(long aOff, long bOff, long cOff, int threads) {
            if (m == 0 || n == 0) {
                return;
            }
            if (k == 0 || alpha == 0f) {
                scaleC(cOff); // op(A) @ op(B) contributes nothing; A and B are not read
                return;
            }
            long work = (long) m * n * k;
            int t = work < PARALLEL_MIN ? 1 : threads;
            if (work < TINY || m <= SKINNY_M || n < L) {
                // unpacked path; split the longer side of C when it is worth it
                if (t > 1 && m <= SKINNY_M && n >= 2 * L * t) {
                    int cols = roundUp(ceilDiv(n, t), L);
                    CpuThreads.parallelFor(ceilDiv(n, cols), 1, (from, to) -> {
                        Workspace ws = Workspace.get();
                        for (int q = from; q < to; q++) {
                            simple(aOff, bOff, cOff, 0, m, q * cols, Math.min(n, (q + 1) * cols), ws);
                        }
                    });
                } else if (t > 1 && m >= 2 * SKINNY_M * t) {
                    int rows = roundUp(ceilDiv(m, t), SKINNY_M);
                    CpuThreads.parallelFor(ceilDiv(m, rows), 1, (from, to) -> {
                        Workspace ws = Workspace.get();
                        for (int q = from; q < to; q++) {
                            simple(aOff, bOff, cOff, q * rows, Math.min(m, (q + 1) * rows), 0, n, ws);
                        }
                    });
                } else {
                    simple(aOff, bOff, cOff, 0, m, 0, n, Workspace.get());
                }
                return;
            }
            // split the longer side of C: each thread packs all of op(B) when rows are split, all of op(A) when columns are
            boolean rowsSplit = m >= 2 * mr * t;
            boolean colsSplit = n >= 2 * NR * t;
            if (t > 1 && rowsSplit && (m >= n || !colsSplit)) {
                int rows = roundUp(ceilDiv(m, t), mr);
                CpuThreads.parallelFor(ceilDiv(m, rows), 1, (from, to) -> {
                    Workspace ws = Workspace.get();
                    for (int q = from; q < to; q++) {
                        packed(aOff, bOff, cOff, q * rows, Math.min(m, (q + 1) * rows), 0, n, ws);
                    }
                });
            } else if (t > 1 && colsSplit) {
                int cols = roundUp(ceilDiv(n, t), NR);
                CpuThreads.parallelFor(ceilDiv(n, cols), 1, (from, to) -> {
                    Workspace ws = Workspace.get();
                    for (int q = from; q < to; q++) {
                        packed(aOff, bOff, cOff, 0, m, q * cols, Math.min(n, (q + 1) * cols), ws);
                    }
                });
            } else {
                packed(aOff, bOff, cOff, 0, m, 0, n, Workspace.get());
            }
        }

        /** C = beta * C (C = 0 when beta == 0, whatever it held). */
        private void scaleC(long cOff) {
            if (beta == 1f) {
                return;
            }
            for (int i = 0; i < m; i++) {
                long row = (cOff + (long) i * ldc) * Float.BYTES;
                if (beta == 0f) {
                    c.asSlice(row, (long) n * Float.BYTES).fill((byte) 0);
                    continue;
                }
                int j = 0;
                for (; j <= n - L; j += L) {
                    long o = row + (long) j * Float.BYTES;
                    FloatVector.fromMemorySegment(S, c, o, ORDER).mul(beta).intoMemorySegment(c, o, ORDER);
                }
                for (; j < n; j++) {
                    long o = row + (long) j * Float.BYTES;
                    c.set(F, o, beta * c.get(F, o));
                }
            }
        }

        /** The packed, blocked path for C[m0:m1, n0:n1]. */
        private void packed(long aOff, long bOff, long cOff, int m0, int m1, int n0, int n1, Workspace ws) {
            int kcMax = Math.min(KC, k);
            float[] bp = ws.bp(roundUp(Math.min(NC, n1 - n0), NR) * kcMax);
            float[] ap = ws.ap(roundUp(Math.min(MC, m1 - m0), mr) * kcMax);
            float[] row = ws.row(Math.max(kcMax, TRANSPOSE_DEPTH * MC));
            long ldcB = (long) ldc * Float.BYTES;
            for (int jc = n0; jc < n1; jc += NC) {
                int nc = Math.min(NC, n1 - jc);
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    packB(bOff, pc, kc, jc, nc, bp, row, ws.stage, ws.transposeScratch);
                    int mode = pc > 0 || beta == 1f ? ADD : beta == 0f ? STORE : SCALE;
                    for (int ic = m0; ic < m1; ic += MC) {
                        int mc = Math.min(MC, m1 - ic);
                        packA(aOff, ic, mc, pc, kc, ap, row, ws.transposeScratch);
                        // B's micro-panel outside, A's inside: the packed A block (mc x kc, 384 KB) stays in L2 and
                        // one micro-panel of B is read from near cache by every A micro-panel in turn; the other way
                        // round, every A micro-panel streamed the whole packed B block (kc x nc, 2 MB: past L2)
                        // again, and the step's GEMMs took 8% longer
                        for (int jr = 0; jr < nc; jr += NR) {
                            int nr = Math.min(NR, nc - jr);
                            for (int ir = 0; ir < mc; ir += this.mr) {
                                int mr = Math.min(this.mr, mc - ir);
                                int ao = ir * kc;
                                long co = (cOff + (long) (ic + ir) * ldc + jc + jr) * Float.BYTES;
                                if (mr == this.mr && nr == NR && mode == STORE) {
                                    micro(kc, ap, ao, bp, jr * kc, c, co, ldcB);
                                } else {
                                    micro(kc, ap, ao, bp, jr * kc, ws.tile, 0, TILE_ROW_BYTES);
                                    if (mr == this.mr && nr == NR) {
                                        mergeFullTile(ws.tile, c, co, ldcB, mode, beta, mr);
                                    } else {
                                        mergeTile(ws.tile, c, co, ldcB, mr, nr, mode, beta);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        private void micro(int kc, float[] ap, int ao, float[] bp, int bo, MemorySegment out, long co, long ldcB) {
            if (mr == TALL) {
                kernel6(kc, ap, ao, bp, bo, out, co, ldcB);
            } else {
                kernel4(kc, ap, ao, bp, bo, out, co, ldcB);
            }
        }

        /**
         * Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels [kc][NR], zero padded; a stored-transposed B through
         * {@code stage} and {@link BlockTranspose}, as {@link #packA} does A.
         */
        private void packB(long bOff, int pc, int kc, int jc, int nc, float[] bp, float[] row, float[] stage,
                           float[] scratch) {
            for (int jp = 0; jp < nc; jp += NR) {
                int w = Math.min(NR, nc - jp);
                int dst = jp * kc;
                if (!transB) {
                    long src = (bOff + (long) pc * ldb + jc + jp) * Float.BYTES;
                    long ldbB = (long) ldb * Float.BYTES;
                    if (w == NR) {
                        for (int p = 0; p < kc; p++, src += ldbB) {
                            int d = dst + p * NR;
                            FloatVector.fromMemorySegment(S, b, src, ORDER).intoArray(bp, d);
                            FloatVector.fromMemorySegment(S, b, src + VB, ORDER).intoArray(bp, d + L);
                        }
                    } else {
                        VectorMask<Float> m0 = S.indexInRange(0, w);
                        VectorMask<Float> m1 = S.indexInRange(L, w);
                        for (int p = 0; p < kc; p++, src += ldbB) {
                            int d = dst + p * NR;
                            FloatVector.fromMemorySegment(S, b, src, ORDER, m0).intoArray(bp, d);
                            FloatVector.fromMemorySegment(S, b, src + VB, ORDER, m1).intoArray(bp, d + L);
                        }
                    }
                } else if (w == NR) {
                    // NR rows of B, PB of their columns at a time, staged contiguously; then rows of the panel are
                    // written whole (a 64 x NR block of the panel stays in L1, unlike scattering all kc rows at once)
                    for (int p0 = 0; p0 < kc; p0 += PB) {
                        int depth = Math.min(PB, kc - p0);
                        copyRows(b, bOff + (long) (jc + jp) * ldb + pc + p0, ldb, NR, depth, stage);
                        int whole = depth - depth % L;
                        for (int q0 = 0; q0 < NR; q0 += L) {
                            for (int p = 0; p < whole; p += L) {
                                BlockTranspose.transpose(stage, q0 * depth + p, depth, bp, dst + (p0 + p) * NR + q0, NR,
                                        1f, scratch);
                            }
                        }
                        for (int p = whole; p < depth; p++) {
                            int d = dst + (p0 + p) * NR;
                            for (int q = 0; q < NR; q++) {
                                bp[d + q] = stage[q * depth + p];
                            }
                        }
                    }
                } else {
                    for (int q = 0; q < w; q++) {
                        MemorySegment.copy(b, F, (bOff + (long) (jc + jp + q) * ldb + pc) * Float.BYTES, row, 0, kc);
                        for (int p = 0; p < kc; p++) {
                            bp[dst + p * NR + q] = row[p];
                        }
                    }
                    for (int q = w; q < NR; q++) {
                        for (int p = 0; p < kc; p++) {
                            bp[dst + p * NR + q] = 0f;
                        }
                    }
                }
            }
        }

        /**
         * {@code rows} rows of {@code width} floats of {@code src}, the first at float {@code from}, {@code ld} apart,
         * into the start of {@code dst} as contiguous rows. Rows exactly {@code width} apart are one run of src and go
         * in one copy: a copy per row is mostly its fixed cost at short rows (GPT-2 mini's k of 64 to 256 as A's
         * rows).
         */
        private static void copyRows(MemorySegment src, long from, int ld, int rows, int width, float[] dst) {
            if (ld == width) {
                MemorySegment.copy(src, F, from * Float.BYTES, dst, 0, rows * width);
                return;
            }
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(src, F, (from + (long) r * ld) * Float.BYTES, dst, r * width, width);
            }
        }

        /**
         * Packs alpha * op(A)[ic:ic+mc, pc:pc+kc] as rows [mc][kc], zero padded to whole mr-row panels: bulk row copies
         * when A is not transposed (a scatter into mr-tall panels cost as much as the products when n is small, e.g.
         * attention's P V); when it is, TRANSPOSE_DEPTH rows of A at a time staged in {@code stage} and turned in
         * L x L blocks ({@link BlockTranspose}, {@code scratch} its staging for other than 8 lanes), the edges float by
         * float. One layout means one micro-kernel per tile height: a second one for 6-tall panels, whose six
         * broadcasts share one base register, had C2 hoist them all and spill an accumulator on 256-bit (AVX2) cores,
         * and ran at half speed.
         */
        private void packA(long aOff, int ic, int mc, int pc, int kc, float[] ap, float[] stage, float[] scratch) {
            float al = alpha;
            if (!transA) {
                copyRows(a, aOff + (long) ic * lda + pc, lda, mc, kc, ap);
                if (al != 1f) {
                    for (int p = 0; p < mc * kc; p++) {
                        ap[p] = al * ap[p];
                    }
                }
            } else {
                for (int p0 = 0; p0 < kc; p0 += TRANSPOSE_DEPTH) {
                    int depth = Math.min(TRANSPOSE_DEPTH, kc - p0);
                    copyRows(a, aOff + (long) (pc + p0) * lda + ic, lda, depth, mc, stage);
                    int wholeRows = mc - mc % L;
                    int wholeDepth = depth - depth % L;
                    for (int r0 = 0; r0 < wholeRows; r0 += L) {
                        for (int q0 = 0; q0 < wholeDepth; q0 += L) {
                            BlockTranspose.transpose(stage, q0 * mc + r0, mc, ap, r0 * kc + p0 + q0, kc, al, scratch);
                        }
                    }
                    for (int r = 0; r < mc; r++) {
                        int dst = r * kc + p0;
                        for (int q = r < wholeRows ? wholeDepth : 0; q < depth; q++) {
                            ap[dst + q] = al * stage[q * mc + r];
                        }
                    }
                }
            }
            Arrays.fill(ap, mc * kc, roundUp(mc, mr) * kc, 0f);
        }

        /**
         * The unpacked path for C[m0:m1, n0:n1], SKINNY_M rows at a time: alpha * op(A) rows are gathered into
         * a buffer; then either C rows accumulate axpy-style over contiguous rows of op(B) (B not transposed and
         * wide enough), or each C element is a vector dot product with a contiguous column of op(B).
         */
        private void simple(long aOff, long bOff, long cOff, int m0, int m1, int n0, int n1, Workspace ws) {
            final int rb = SKINNY_M;
            int w = n1 - n0;
            boolean dot = transB || w < L;
            float[] bt = null;
            if (dot && !transB) {
                // op(B)[:, n0:n1] transposed into [w][k] so that every column is contiguous
                bt = ws.bt((long) w * k);
                float[] row = ws.row(w);
                for (int p = 0; p < k; p++) {
                    MemorySegment.copy(b, F, (bOff + (long) p * ldb + n0) * Float.BYTES, row, 0, w);
                    for (int q = 0; q < w; q++) {
                        bt[q * k + p] = row[q];
                    }
                }
            }
            float[] ar = ws.ar((long) rb * k);
            int chunk = dot ? w : Math.min(w, AXPY_COLS);
            float[] acc = ws.acc((long) rb * chunk);
            for (int i0 = m0; i0 < m1; i0 += rb) {
                int h = Math.min(rb, m1 - i0);
                gatherRows(aOff, i0, h, ar);
                for (int j0 = 0; j0 < w; j0 += chunk) {
                    int cw = Math.min(chunk, w - j0);
                    if (dot) {
                        if (h == 1) {
                            dotRow(bOff, n0 + j0, cw, ar, bt, acc);
                        } else {
                            dotRows(bOff, n0 + j0, cw, ar, bt, acc);
                        }
                    } else {
                        if (h == 1) {
                            axpyRow(bOff, n0 + j0, cw, ar, acc);
                        } else {
                            axpyRows(bOff, n0 + j0, cw, ar, acc);
                        }
                    }
                    for (int r = 0; r < h; r++) {
                        storeRow(acc, r * cw, (cOff + (long) (i0 + r) * ldc + n0 + j0) * Float.BYTES, cw);
                    }
                }
            }
        }

        /** ar[r][p] = alpha * op(A)[i0 + r, p] for r < h, zero for h <= r < SKINNY_M. */
        private void gatherRows(long aOff, int i0, int h, float[] ar) {
            float al = alpha;
            for (int r = 0; r < h; r++) {
                int d = r * k;
                if (!transA) {
                    MemorySegment.copy(a, F, (aOff + (long) (i0 + r) * lda) * Float.BYTES, ar, d, k);
                } else {
                    long src = (aOff + i0 + r) * Float.BYTES;
                    long ldaB = (long) lda * Float.BYTES;
                    for (int p = 0; p < k; p++, src += ldaB) {
                        ar[d + p] = a.get(F, src);
                    }
                }
                if (al != 1f) {
                    for (int p = 0; p < k; p++) {
                        ar[d + p] *= al;
                    }
                }
            }
            java.util.Arrays.fill(ar, h * k, SKINNY_M * k, 0f);
        }

        /** acc[r][q] = sum_p ar[r][p] * op(B)[p, n0 + q] with op(B) columns contiguous (B transposed, or bt). */
        private void dotRows(long bOff, int n0, int w, float[] ar, float[] bt, float[] acc) {
            int k = this.k;
            int kv = k - k % L;
            VectorMask<Float> tail = S.indexInRange(kv, k);
            for (int q = 0; q < w; q++) {
                FloatVector s0 = FloatVector.zero(S);
                FloatVector s1 = s0;
                FloatVector s2 = s0;
                FloatVector s3 = s0;
                long src = (bOff + (long) (n0 + q) * ldb) * Float.BYTES;
                int bo = q * k;
                for (int p = 0; p < kv; p += L) {
                    FloatVector bv = bt != null ? FloatVector.fromArray(S, bt, bo + p)
                            : FloatVector.fromMemorySegment(S, b, src + (long) p * Float.BYTES, ORDER);
                    s0 = FloatVector.fromArray(S, ar, p).fma(bv, s0);
                    s1 = FloatVector.fromArray(S, ar, k + p).fma(bv, s1);
                    s2 = FloatVector.fromArray(S, ar, 2 * k + p).fma(bv, s2);
                    s3 = FloatVector.fromArray(S, ar, 3 * k + p).fma(bv, s3);
                }
                if (kv < k) {
                    FloatVector bv = bt != null ? FloatVector.fromArray(S, bt, bo + kv, tail)
                            : FloatVector.fromMemorySegment(S, b, src + (long) kv * Float.BYTES, ORDER, tail);
                    s0 = FloatVector.fromArray(S, ar, kv, tail).fma(bv, s0);
                    s1 = FloatVector.fromArray(S, ar, k + kv, tail).fma(bv, s1);
                    s2 = FloatVector.fromArray(S, ar, 2 * k + kv, tail).fma(bv, s2);
                    s3 = FloatVector.fromArray(S, ar, 3 * k + kv, tail).fma(bv, s3);
                }
                acc[q] = VecMath.sum(s0);
                acc[w + q] = VecMath.sum(s1);
                acc[2 * w + q] = VecMath.sum(s2);
                acc[3 * w + q] = VecMath.sum(s3);
            }
        }

        /** dotRows for a single row of A (GEMV): acc[q] = sum_p ar[p] * op(B)[p, n0 + q]. */
        private void dotRow(long bOff, int n0, int w, float[] ar, float[] bt, float[] acc) {
            int k = this.k;
            int kv = k - k % L;
            int k2 = k - k % (2 * L);
            VectorMask<Float> tail = S.indexInRange(kv, k);
            for (int q = 0; q < w; q++) {
                FloatVector s0 = FloatVector.zero(S);
                FloatVector s1 = s0;
                long src = (bOff + (long) (n0 + q) * ldb) * Float.BYTES;
                int bo = q * k;
                int p = 0;
                for (; p < k2; p += 2 * L) {
                    FloatVector b0 = bt != null ? FloatVector.fromArray(S, bt, bo + p)
                            : FloatVector.fromMemorySegment(S, b, src + (long) p * Float.BYTES, ORDER);
                    FloatVector b1 = bt != null ? FloatVector.fromArray(S, bt, bo + p + L)
                            : FloatVector.fromMemorySegment(S, b, src + (long) (p + L) * Float.BYTES, ORDER);
                    s0 = FloatVector.fromArray(S, ar, p).fma(b0, s0);
                    s1 = FloatVector.fromArray(S, ar, p + L).fma(b1, s1);
                }
                for (; p < kv; p += L) {
                    FloatVector bv = bt != null ? FloatVector.fromArray(S, bt, bo + p)
                            : FloatVector.fromMemorySegment(S, b, src + (long) p * Float.BYTES, ORDER);
                    s0 = FloatVector.fromArray(S, ar, p).fma(bv, s0);
                }
                if (kv < k) {
                    FloatVector bv = bt != null ? FloatVector.fromArray(S, bt, bo + kv, tail)
                            : FloatVector.fromMemorySegment(S, b, src + (long) kv * Float.BYTES, ORDER, tail);
                    s1 = FloatVector.fromArray(S, ar, kv, tail).fma(bv, s1);
                }
                acc[q] = VecMath.sum(s0.add(s1));
            }
        }

        /** axpyRows for a single row of A (GEMV): acc[0:w] = sum_p ar[p] * op(B)[p, n0:n0+w]. */
        private void axpyRow(long bOff, int n0, int w, float[] ar, float[] acc) {
            int k = this.k;
            int wv = w - w % L;
            VectorMask<Float> tail = S.indexInRange(wv, w);
            java.util.Arrays.fill(acc, 0, w, 0f);
            long ldbB = (long) ldb * Float.BYTES;
            long src = (bOff + n0) * Float.BYTES;
            int p = 0;
            for (; p + 1 < k; p += 2, src += 2 * ldbB) {
                FloatVector a0 = FloatVector.broadcast(S, ar[p]);
                FloatVector a1 = FloatVector.broadcast(S, ar[p + 1]);
                int j = 0;
                for (; j < wv; j += L) {
                    long o = src + (long) j * Float.BYTES;
                    FloatVector x = FloatVector.fromMemorySegment(S, b, o, ORDER);
                    FloatVector y = FloatVector.fromMemorySegment(S, b, o + ldbB, ORDER);
                    a1.fma(y, a0.fma(x, FloatVector.fromArray(S, acc, j))).intoArray(acc, j);
                }
                if (j < w) {
                    long o = src + (long) j * Float.BYTES;
                    FloatVector x = FloatVector.fromMemorySegment(S, b, o, ORDER, tail);
                    FloatVector y = FloatVector.fromMemorySegment(S, b, o + ldbB, ORDER, tail);
                    a1.fma(y, a0.fma(x, FloatVector.fromArray(S, acc, j, tail))).intoArray(acc, j, tail);
                }
            }
            if (p < k) {
                FloatVector a0 = FloatVector.broadcast(S, ar[p]);
                int j = 0;
                for (; j < wv; j += L) {
                    FloatVector x = FloatVector.fromMemorySegment(S, b, src + (long) j * Float.BYTES, ORDER);
                    a0.fma(x, FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
                }
                if (j < w) {
                    FloatVector x = FloatVector.fromMemorySegment(S, b, src + (long) j * Float.BYTES, ORDER, tail);
                    a0.fma(x, FloatVector.fromArray(S, acc, j, tail)).intoArray(acc, j, tail);
                }
            }
        }

        /** acc[r][0:w] = sum_p ar[r][p] * op(B)[p, n0:n0+w] with B rows contiguous (B not transposed). */
        private void axpyRows(long bOff, int n0, int w, float[] ar, float[] acc) {
            int k = this.k;
            int wv = w - w % L;
            VectorMask<Float> tail = S.indexInRange(wv, w);
            java.util.Arrays.fill(acc, 0, SKINNY_M * w, 0f);
            long ldbB = (long) ldb * Float.BYTES;
            long src = (bOff + n0) * Float.BYTES;
            for (int p = 0; p < k; p++, src += ldbB) {
                FloatVector a0 = FloatVector.broadcast(S, ar[p]);
                FloatVector a1 = FloatVector.broadcast(S, ar[k + p]);
                FloatVector a2 = FloatVector.broadcast(S, ar[2 * k + p]);
                FloatVector a3 = FloatVector.broadcast(S, ar[3 * k + p]);
                int j = 0;
                for (; j < wv; j += L) {
                    FloatVector bv = FloatVector.fromMemorySegment(S, b, src + (long) j * Float.BYTES, ORDER);
                    a0.fma(bv, FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
                    a1.fma(bv, FloatVector.fromArray(S, acc, w + j)).intoArray(acc, w + j);
                    a2.fma(bv, FloatVector.fromArray(S, acc, 2 * w + j)).intoArray(acc, 2 * w + j);
                    a3.fma(bv, FloatVector.fromArray(S, acc, 3 * w + j)).intoArray(acc, 3 * w + j);
                }
                if (j < w) {
                    FloatVector bv = FloatVector.fromMemorySegment(S, b, src + (long) j * Float.BYTES, ORDER, tail);
                    a0.fma(bv, FloatVector.fromArray(S, acc, j, tail)).intoArray(acc, j, tail);
                    a1.fma(bv, FloatVector.fromArray(S, acc, w + j, tail)).intoArray(acc, w + j, tail);
                    a2.fma(bv, FloatVector.fromArray(S, acc, 2 * w + j, tail)).intoArray(acc, 2 * w + j, tail);
                    a3.fma(bv, FloatVector.fromArray(S, acc, 3 * w + j, tail)).intoArray(acc, 3 * w + j, tail);
                }
            }
        }

        /** C[row, 0:w] = acc[from:from+w] + beta * C (just acc when beta == 0). */
        private void storeRow(float[] acc, int from, long dst, int w) {
            int j = 0;
            for (; j <= w - L; j += L) {
                long o = dst + (long) j * Float.BYTES;
                FloatVector v = FloatVector.fromArray(S, acc, from + j);
                if (beta != 0f) {
                    v = FloatVector.fromMemorySegment(S, c, o, ORDER).fma(FloatVector.broadcast(S, beta), v);
                }
                v.intoMemorySegment(c, o, ORDER);
            }
            for (; j < w; j++) {
                long o = dst + (long) j * Float.BYTES;
                float v = acc[from + j];
                c.set(F, o, beta == 0f ? v : beta * c.get(F, o) + v);
            }
        }
    }

    // ---------------------------------------------------------------- kernel

    /** Merges the top-left mr x nr of a scratch tile (row stride NR) into C. */
    private static void mergeTile(MemorySegment tile, MemorySegment c, long co, long ldcB, int mr, int nr, int mode, float beta) {
        for (int r = 0; r < mr; r++) {
            long row = co + r * ldcB;
            for (int q = 0; q < nr; q++) {
                float v = tile.get(F, (long) (r * NR + q) * Float.BYTES);
                long o = row + (long) q * Float.BYTES;
                if (mode == STORE) {
                    c.set(F, o, v);
                } else if (mode == ADD) {
                    c.set(F, o, c.get(F, o) + v);
                } else {
                    c.set(F, o, beta * c.get(F, o) + v);
                }
            }
        }
    }

    /**
     * The 6 x 2L register-blocked micro-kernel: C[6][2L] = Ap[6][kc] * Bp[kc][2L], A packed as rows kc apart. Only
     * plain stores to C or the scratch tile: each epilogue that reads C (add, scale) took C2 nearer
     * NodeCountInliningCutoff, past which it boxed the accumulators it did not inline, on every call (~2 GB of heap
     * garbage per GPT-2 small step; with two epilogues it still did under load). mergeFullTile reads C instead.
     */
    private static void kernel6(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldcB) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int row1 = ao + kc;
        int row2 = ao + 2 * kc;
        int row3 = ao + 3 * kc;
        int row4 = ao + 4 * kc;
        int row5 = ao + 5 * kc;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, a[ao + p]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[row1 + p]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[row2 + p]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[row3 + p]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[row4 + p]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[row5 + p]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        long r = co;
        c00.intoMemorySegment(c, r, ORDER);
        c01.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c10.intoMemorySegment(c, r, ORDER);
        c11.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c20.intoMemorySegment(c, r, ORDER);
        c21.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c30.intoMemorySegment(c, r, ORDER);
        c31.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c40.intoMemorySegment(c, r, ORDER);
        c41.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c50.intoMemorySegment(c, r, ORDER);
        c51.intoMemorySegment(c, r + VB, ORDER);
    }

    /** {@link #kernel6} with four rows, for 256-bit vectors ({@link #MR}): the same sums in the same order. */
    private static void kernel4(int kc, float[] a, int ao, float[] b, int bo, MemorySegment c, long co, long ldcB) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int row1 = ao + kc;
        int row2 = ao + 2 * kc;
        int row3 = ao + 3 * kc;
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector a0 = FloatVector.broadcast(S, a[ao + p]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[row1 + p]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[row2 + p]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[row3 + p]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
        }
        long r = co;
        c00.intoMemorySegment(c, r, ORDER);
        c01.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c10.intoMemorySegment(c, r, ORDER);
        c11.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c20.intoMemorySegment(c, r, ORDER);
        c21.intoMemorySegment(c, r + VB, ORDER);
        r += ldcB;
        c30.intoMemorySegment(c, r, ORDER);
        c31.intoMemorySegment(c, r + VB, ORDER);
    }

    /**
     * C[mr][2L] = C + tile (ADD) or beta * C + tile with one rounding (SCALE), the tile's rows NR apart: the same bits as
     * adding the accumulators to C directly.
     */
    private static void mergeFullTile(MemorySegment tile, MemorySegment c, long co, long ldcB, int mode, float beta, int mr) {
        FloatVector vb = FloatVector.broadcast(S, beta);
        for (int h = 0; h < 2 * mr; h++) { // half h: row h / 2, columns (h % 2) * L ..
            long o = co + (h >> 1) * ldcB + (h & 1) * VB;
            FloatVector t = FloatVector.fromMemorySegment(S, tile, h * VB, ORDER);
            FloatVector old = FloatVector.fromMemorySegment(S, c, o, ORDER);
            (mode == ADD ? old.add(t) : old.fma(vb, t)).intoMemorySegment(c, o, ORDER);
        }
    }

    // ---------------------------------------------------------------- buffers

    /** Per-thread packing buffers, grown on demand and reused. Only used between two points with no fork/join. */
    private static final class Workspace {
        private static final ThreadLocal<Workspace> LOCAL = ThreadLocal.withInitial(Workspace::new);

        final MemorySegment tile = Arena.ofAuto().allocate((long) TALL * NR * Float.BYTES, 64);
        final float[] stage = new float[NR * PB];
        final float[] transposeScratch = new float[BlockTranspose.SCRATCH];
        private float[] ap = new float[0];
        private float[] bp = new float[0];
        private float[] row = new float[0];
        private float[] bt = new float[0];
        private float[] ar = new float[0];
        private float[] acc = new float[0];

        static Workspace get() {
            return LOCAL.get();
        }

        float[] ap(long size) {
            return ap.length >= size ? ap : (ap = new float[checkedSize(size)]);
        }

        float[] bp(long size) {
            return bp.length >= size ? bp : (bp = new float[checkedSize(size)]);
        }

        float[] row(long size) {
            return row.length >= size ? row : (row = new float[checkedSize(size)]);
        }

        float[] bt(long size) {
            return bt.length >= size ? bt : (bt = new float[checkedSize(size)]);
        }

        float[] ar(long size) {
            return ar.length >= size ? ar : (ar = new float[checkedSize(size)]);
        }

        float[] acc(long size) {
            return acc.length >= size ? acc : (acc = new float[checkedSize(size)]);
        }

        private static int checkedSize(long size) {
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("sgemm: work buffer of " + size + " floats is too large");
            }
            return (int) size;
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}

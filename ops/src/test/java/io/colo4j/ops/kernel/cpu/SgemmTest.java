package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SgemmTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static Arena arena;

    @BeforeAll
    static void open() {
        arena = Arena.ofShared();
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    /** One gemm problem laid out in segments, with its double-accumulated reference. */
    private static final class Problem {
        final boolean ta, tb;
        final int m, n, k, lda, ldb, ldc;
        final long aOff, bOff, cOff;
        final float alpha, beta;
        final MemorySegment a, b, c;
        final double[] expected;
        final double[] magnitude; // |alpha| * sum |a||b| + |beta c|: the scale of the rounding error
        final boolean[] checked; // rows compared with the reference (all of them for small problems)

        Problem(Arena arena, long seed, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta,
                int pad, long off, boolean nanC) {
            this.ta = ta;
            this.tb = tb;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            this.lda = (ta ? m : k) + pad;
            this.ldb = (tb ? k : n) + pad;
            this.ldc = n + pad;
            this.aOff = off;
            this.bOff = off + 1;
            this.cOff = off + 2;
            SplittableRandom rnd = new SplittableRandom(seed);
            a = fill(arena, rnd, aOff + (long) (ta ? k : m) * lda, false);
            b = fill(arena, rnd, bOff + (long) (tb ? n : k) * ldb, false);
            c = fill(arena, rnd, cOff + (long) m * ldc, nanC);
            expected = new double[m * n];
            magnitude = new double[m * n];
            checked = rowsToCheck(m, (long) m * n * k);
            float[] av = toArray(a);
            float[] bv = toArray(b);
            float[] cv = toArray(c);
            for (int i = 0; i < m; i++) {
                if (!checked[i]) {
                    continue;
                }
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double abs = 0;
                    for (int p = 0; p < k; p++) {
                        double x = av[(int) (aOff + (ta ? (long) p * lda + i : (long) i * lda + p))];
                        double y = bv[(int) (bOff + (tb ? (long) j * ldb + p : (long) p * ldb + j))];
                        s += x * y;
                        abs += Math.abs(x * y);
                    }
                    double old = beta == 0f ? 0 : beta * (double) cv[(int) (cOff + (long) i * ldc + j)];
                    expected[i * n + j] = alpha * s + old;
                    magnitude[i * n + j] = Math.abs(alpha) * abs + Math.abs(old);
                }
            }
        }

        void run(int threads) {
            Sgemm.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, threads);
        }

        void run(int threads, int tileRows) {
            Sgemm.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, threads, tileRows);
        }

        void check(String label) {
            for (int i = 0; i < m; i++) {
                if (!checked[i]) {
                    continue;
                }
                for (int j = 0; j < n; j++) {
                    float got = c.getAtIndex(F, cOff + (long) i * ldc + j);
                    double want = expected[i * n + j];
                    double tol = (1e-5 + 2e-7 * k) * magnitude[i * n + j] + 1e-30;
                    if (!(Math.abs(got - want) <= tol)) {
                        throw new AssertionError(label + " " + this + ": C[" + i + "," + j + "] = " + got + ", want " + want
                                + " (tol " + tol + ")");
                    }
                }
            }
            // padding between rows of C is untouched
            for (int i = 0; i < m; i++) {
                for (int j = n; j < ldc && i * (long) ldc + j < c.byteSize() / 4 - cOff; j++) {
                    float v = c.getAtIndex(F, cOff + (long) i * ldc + j);
                    assertThat(Float.isNaN(v) || (v >= -1 && v <= 1)).as("padding of C modified").isTrue();
                }
            }
        }

        @Override
        public String toString() {
            return String.format("[%s%s m=%d n=%d k=%d alpha=%s beta=%s lda=%d ldb=%d ldc=%d off=%d]",
                    ta ? "T" : "N", tb ? "T" : "N", m, n, k, alpha, beta, lda, ldb, ldc, aOff);
        }
    }

    /** Every row of small problems; of large ones every 7th row plus the rows at micro-tile and block edges. */
    static boolean[] rowsToCheck(int m, long work) {
        boolean[] rows = new boolean[m];
        for (int i = 0; i < m; i++) {
            int inBlock = i % Sgemm.MC;
            rows[i] = work <= 2_000_000 || i % 7 == 0 || i < Sgemm.TALL + 1 || i >= m - Sgemm.TALL - 1
                    || inBlock == 0 || inBlock == Sgemm.MC - 1
                    || (i % Sgemm.TALL == Sgemm.TALL - 1 || i % Sgemm.SHORT == Sgemm.SHORT - 1) && i % 5 == 0;
        }
        return rows;
    }

    private static float[] toArray(MemorySegment s) {
        return s.toArray(F);
    }

    private static MemorySegment fill(Arena arena, SplittableRandom rnd, long count, boolean nan) {
        MemorySegment s = arena.allocate(Math.max(1, count) * Float.BYTES, 64);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(F, i, nan ? Float.NaN : (float) rnd.nextDouble(-1, 1));
        }
        return s;
    }

    private static void check(int m, int n, int k, float alpha, float beta, int pad, long off, boolean nanC, int threads) {
        int combo = 0;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                // both micro-tile heights on every machine, whichever this one's vectors pick: over the shapes, each
                // meets every layout
                int tileRows = ((combo + m + n + k) & 1) == 0 ? Sgemm.TALL : Sgemm.SHORT;
                Problem p = new Problem(arena, 31L * m + 17L * n + k + combo++, ta, tb, m, n, k, alpha, beta, pad, off, nanC);
                p.run(threads, tileRows);
                p.check("threads=" + threads + " tile rows=" + tileRows);
            }
        }
    }

    @Test
    void tinyAndOddShapes() {
        int[][] shapes = {
            {1, 1, 1}, {1, 7, 1}, {1, 100, 1}, {1, 1, 100}, {100, 1, 1}, {2, 3, 4}, {5, 5, 5},
            {6, 32, 16}, {7, 33, 17}, {17, 33, 65}, {16, 16, 16}, {31, 31, 31}, {33, 15, 40},
        };
        for (int[] s : shapes) {
            check(s[0], s[1], s[2], 1f, 0f, 0, 0, false, 1);
            check(s[0], s[1], s[2], -0.5f, 0.75f, 3, 5, false, CpuThreads.threads());
        }
    }

    @Test
    void blockedPathShapesOnOneAndAllThreads() {
        int[][] shapes = {{127, 127, 127}, {64, 96, 80}, {255, 257, 129}, {13, 1100, 20}, {40, 50, 600}};
        for (int[] s : shapes) {
            check(s[0], s[1], s[2], 1f, 0f, 0, 0, false, 1);
            check(s[0], s[1], s[2], 1f, 0f, 0, 0, false, CpuThreads.threads());
            check(s[0], s[1], s[2], 2.5f, 1f, 7, 3, false, CpuThreads.threads());
        }
    }

    @Test
    void largerThanEveryBlockInEveryDimension() {
        // m > MC, n > NC, k > KC: several packed blocks everywhere, edge tiles on both sides
        check(Sgemm.MC + 7, Sgemm.NC + 45, Sgemm.KC + 33, 0.5f, -1.25f, 2, 1, false, CpuThreads.threads());
    }

    @Test
    void bothTileHeightsGiveTheSameBits() {
        // the machine picks the tile height (6 rows with AVX-512, 4 with AVX2); results must not depend on it
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int m = Sgemm.MC + 13, n = 3 * Sgemm.NC / 2 + 5, k = Sgemm.KC + 70;
                Problem tall = new Problem(arena, 99, ta, tb, m, n, k, 0.75f, 0.5f, 1, 3, false);
                Problem shorter = new Problem(arena, 99, ta, tb, m, n, k, 0.75f, 0.5f, 1, 3, false);
                tall.run(CpuThreads.threads(), Sgemm.TALL);
                shorter.run(1, Sgemm.SHORT);
                float[] want = toArray(tall.c);
                float[] got = toArray(shorter.c);
                int at = java.util.Arrays.mismatch(want, got);
                assertThat(at).as("%s: first differing float at %d: %s rows %s vs %s rows %s", tall, at, Sgemm.TALL,
                        at < 0 ? "" : want[at], Sgemm.SHORT, at < 0 ? "" : got[at]).isEqualTo(-1);
            }
        }
    }

    @Test
    void storedTransposedOperandsGiveTheSameBitsAsStoredOnes() {
        // packing absorbs the transposes (in blocks of vector lanes, with scalar edges): on the packed path every
        // layout of the same A and B must give the same C. m, k and n leave partial lane blocks, partial depth and
        // B-staging chunks and a narrow last panel; alpha != 1 is applied while packing A.
        int m = 2 * Sgemm.MC + 37;
        int n = 3 * Sgemm.NR + 13;
        int k = 150;
        float alpha = -0.75f;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] av = new float[m * k];
        float[] bv = new float[k * n];
        for (int i = 0; i < av.length; i++) {
            av[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < bv.length; i++) {
            bv[i] = (float) rnd.nextDouble(-1, 1);
        }
        MemorySegment a = arena.allocate((long) m * k * Float.BYTES, 64);
        MemorySegment aT = arena.allocate((long) m * k * Float.BYTES, 64);
        MemorySegment b = arena.allocate((long) k * n * Float.BYTES, 64);
        MemorySegment bT = arena.allocate((long) k * n * Float.BYTES, 64);
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                a.setAtIndex(F, (long) i * k + p, av[i * k + p]);
                aT.setAtIndex(F, (long) p * m + i, av[i * k + p]);
            }
        }
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                b.setAtIndex(F, (long) p * n + j, bv[p * n + j]);
                bT.setAtIndex(F, (long) j * k + p, bv[p * n + j]);
            }
        }
        float[] want = null;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                MemorySegment c = arena.allocate((long) m * n * Float.BYTES, 64);
                Sgemm.sgemm(ta, tb, m, n, k, alpha, ta ? aT : a, 0, ta ? m : k, tb ? bT : b, 0, tb ? k : n,
                        0f, c, 0, n, 1);
                float[] got = toArray(c);
                if (want == null) {
                    want = got;
                    continue;
                }
                int at = java.util.Arrays.mismatch(want, got);
                assertThat(at).as("%s%s: first float differing from NN at %d", ta ? "T" : "N", tb ? "T" : "N", at)
                        .isEqualTo(-1);
            }
        }
    }

    @Test
    void skinnyAndNarrowShapes() {
        int[][] shapes = {{1, 1000, 300}, {2, 700, 129}, {4, 1000, 100}, {3, 37, 2000}, {300, 3, 200}, {500, 1, 300},
            {700, 15, 150}, {5, 40, 600}};
        for (int[] s : shapes) {
            check(s[0], s[1], s[2], 1f, 0f, 0, 0, false, CpuThreads.threads());
            check(s[0], s[1], s[2], 1.5f, 0.5f, 4, 2, false, 1);
        }
    }

    @Test
    void alphaBetaCombinations() {
        float[][] ab = {{1, 0}, {2.5f, 0}, {1, 1}, {-0.5f, 0.75f}, {0, 2}, {0, 0}, {1.5f, 1}, {1, -1}};
        for (float[] x : ab) {
            check(9, 21, 11, x[0], x[1], 1, 0, false, 1);
            check(70, 90, 100, x[0], x[1], 2, 1, false, CpuThreads.threads());
        }
    }

    @Test
    void betaZeroIgnoresNaNInC() {
        for (int[] s : new int[][] {{3, 5, 7}, {70, 90, 100}, {2, 300, 50}, {100, 5, 30}, {4, 4, 0}}) {
            check(s[0], s[1], s[2], 1f, 0f, 1, 2, true, CpuThreads.threads());
        }
        // alpha == 0 and beta == 0: C = 0, whatever it held
        check(20, 30, 10, 0f, 0f, 0, 0, true, 1);
    }

    @Test
    void zeroSizes() {
        check(3, 5, 0, 1f, 0f, 0, 0, false, 1);
        check(3, 5, 0, 1f, 0.5f, 2, 1, false, 1);
        check(3, 5, 0, 1f, 1f, 0, 0, false, 1);
        check(0, 5, 3, 1f, 0f, 0, 0, false, 1);
        check(5, 0, 3, 1f, 0f, 0, 0, false, 1);
        check(0, 0, 0, 1f, 0f, 0, 0, false, 1);
    }

    @Test
    void batchedWithStridesSmallAndLarge() {
        int[][] cases = {{5, 13, 37, 19}, {12, 64, 48, 64}, {3, 1, 33, 9}};
        for (int[] s : cases) {
            int batch = s[0], m = s[1], n = s[2], k = s[3];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    for (boolean broadcastB : new boolean[] {false, true}) {
                        batched(batch, m, n, k, ta, tb, broadcastB, 0.5f, 0.25f);
                    }
                }
            }
        }
        batched(7, 20, 30, 40, false, true, false, 1f, 0f);
        // problems large enough to be split one at a time
        batched(2, 170, 160, 160, false, false, false, 1f, 0f);
        batched(2, 170, 160, 160, true, true, true, 0.5f, 1f);
    }

    private static void batched(int batch, int m, int n, int k, boolean ta, boolean tb, boolean broadcastB, float alpha, float beta) {
        int lda = (ta ? m : k) + 1;
        int ldb = (tb ? k : n) + 2;
        int ldc = n + 3;
        long strideA = (long) (ta ? k : m) * lda + 5;
        long strideB = broadcastB ? 0 : (long) (tb ? n : k) * ldb + 7;
        long strideC = (long) m * ldc + 11;
        SplittableRandom rnd = new SplittableRandom(batch * 1000L + m + n + k);
        MemorySegment a = fill(arena, rnd, 2 + strideA * batch, false);
        MemorySegment b = fill(arena, rnd, 3 + strideB * (batch - 1) + (long) (tb ? n : k) * ldb, false);
        MemorySegment c = fill(arena, rnd, 4 + strideC * batch, beta == 0f);
        MemorySegment c0 = arena.allocate(c.byteSize());
        c0.copyFrom(c);
        Sgemm.sgemmBatched(ta, tb, batch, m, n, k, alpha, a, 2, strideA, lda, b, 3, strideB, ldb, beta, c, 4, strideC, ldc);
        float[] av = toArray(a);
        float[] bv = toArray(b);
        float[] cv = toArray(c0);
        for (int q = 0; q < batch; q++) {
            long ao = 2 + q * strideA, bo = 3 + q * strideB, co = 4 + q * strideC;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, abs = 0;
                    for (int p = 0; p < k; p++) {
                        double x = av[(int) (ao + (ta ? (long) p * lda + i : (long) i * lda + p))];
                        double y = bv[(int) (bo + (tb ? (long) j * ldb + p : (long) p * ldb + j))];
                        s += x * y;
                        abs += Math.abs(x * y);
                    }
                    double old = beta == 0f ? 0 : beta * (double) cv[(int) (co + (long) i * ldc + j)];
                    double want = alpha * s + old;
                    double tol = (1e-5 + 2e-7 * k) * (Math.abs(alpha) * abs + Math.abs(old)) + 1e-30;
                    float got = c.getAtIndex(F, co + (long) i * ldc + j);
                    if (!(Math.abs(got - want) <= tol)) {
                        throw new AssertionError(String.format("batched %s%s batch=%d m=%d n=%d k=%d bcastB=%s: C[%d][%d,%d]=%s want %s",
                                ta ? "T" : "N", tb ? "T" : "N", batch, m, n, k, broadcastB, q, i, j, got, want));
                    }
                }
            }
        }
    }

    @Test
    void concurrentCallersAndNestedCallsFromPoolTasks() throws Exception {
        List<Problem> problems = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            problems.add(new Problem(arena, 100 + i, i % 2 == 1, i >= 2, 150 + i, 170 - i, 160, 1f, 0f, 1, i, false));
        }
        ExecutorService ranks = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 3; round++) {
                List<Future<?>> fs = new ArrayList<>();
                for (Problem p : problems) {
                    fs.add(ranks.submit((Callable<Void>) () -> {
                        p.run(CpuThreads.threads());
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
                for (Problem p : problems) {
                    p.check("concurrent round " + round);
                }
            }
        } finally {
            ranks.shutdownNow();
        }
        // sgemm called from inside pool tasks: nested parallelism must neither deadlock nor mix up buffers
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CpuThreads.parallelFor(problems.size(), 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                try {
                    problems.get(i).run(CpuThreads.threads());
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }
        });
        assertThat(failure.get()).isNull();
        for (Problem p : problems) {
            p.check("nested");
        }
    }

    @Test
    void confinedAndHeapSegments() {
        try (Arena confined = Arena.ofConfined()) {
            Problem p = new Problem(confined, 7, false, true, 130, 140, 150, 1f, 0f, 0, 0, false);
            p.run(CpuThreads.threads()); // must stay on this thread rather than fail on a pool thread
            p.check("confined");
        }
        int m = 40, n = 50, k = 60;
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        Sgemm.sgemm(false, false, m, n, k, 1f, MemorySegment.ofArray(a), 0, k, MemorySegment.ofArray(b), 0, n,
                0f, MemorySegment.ofArray(c), 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += (double) a[i * k + p] * b[p * n + j];
                }
                assertThat((double) c[i * n + j]).isCloseTo(s, org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    @Test
    void argumentValidation() {
        MemorySegment a = arena.allocate(100 * 4L);
        MemorySegment b = arena.allocate(100 * 4L);
        MemorySegment c = arena.allocate(100 * 4L);
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, -1, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sgemm").hasMessageContaining("m=-1");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 2, 2, -3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sgemm").hasMessageContaining("k=-3");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 4, 4, 5, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sgemm").hasMessageContaining("lda=4");
        assertThatThrownBy(() -> Sgemm.sgemm(true, false, 6, 4, 5, 1f, a, 0, 5, b, 0, 4, 0f, c, 0, 6))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lda=5").hasMessageContaining("6");
        assertThatThrownBy(() -> Sgemm.sgemm(false, true, 4, 4, 5, 1f, a, 0, 5, b, 0, 4, 0f, c, 0, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ldb=4");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ldc=3");
        // 11 x 10 does not fit in 100 floats
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 11, 2, 10, 1f, a, 0, 10, b, 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sgemm").hasMessageContaining("too small")
                .hasMessageContaining("segment a");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 97, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("segment b").hasMessageContaining("97");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, -1, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative offset -1");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c.asReadOnly(), 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threads");
        assertThatThrownBy(() -> Sgemm.sgemm(false, false, 2, 2, 2, 1f, a, Long.MAX_VALUE / 2, 2, b, 0, 2, 0f, c, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sgemm");
        // batched: the last problem falls off the end; overlapping outputs; negative stride
        assertThatThrownBy(() -> Sgemm.sgemmBatched(false, false, 5, 2, 2, 2, 1f, a, 0, 30, 2, b, 0, 0, 2, 0f, c, 0, 4, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("segment a").hasMessageContaining("batch 5");
        assertThatThrownBy(() -> Sgemm.sgemmBatched(false, false, 3, 2, 2, 2, 1f, a, 0, 4, 2, b, 0, 4, 2, 0f, c, 0, 3, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap").hasMessageContaining("strideC=3");
        assertThatThrownBy(() -> Sgemm.sgemmBatched(false, false, 2, 2, 2, 2, 1f, a, 0, -4, 2, b, 0, 4, 2, 0f, c, 0, 4, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative batch stride -4");
        assertThatThrownBy(() -> Sgemm.sgemmBatched(false, false, -1, 2, 2, 2, 1f, a, 0, 4, 2, b, 0, 4, 2, 0f, c, 0, 4, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch=-1");
        // nothing was written by the failed calls, and a valid empty call does nothing
        Sgemm.sgemm(false, false, 0, 0, 0, 1f, a, 0, 0, b, 0, 0, 0f, c, 0, 0);
    }

    @Test
    void parallelForCoversEveryIndexOnceAndNests() {
        int n = 1000;
        int[] hits = new int[n];
        CpuThreads.parallelFor(n, 7, (from, to) -> {
            for (int i = from; i < to; i++) {
                hits[i]++;
                CpuThreads.parallelFor(3, 1, (f2, t2) -> { });
            }
        });
        for (int h : hits) {
            assertThat(h).isEqualTo(1);
        }
        assertThat(CpuThreads.pool().getParallelism()).isEqualTo(CpuThreads.threads()).isGreaterThanOrEqualTo(1);
        // a failing body surfaces in the caller, after every range has finished
        assertThatThrownBy(() -> CpuThreads.parallelFor(100, 1, (from, to) -> {
            if (from <= 57 && 57 < to) {
                throw new IllegalStateException("boom at 57");
            }
        })).hasMessageContaining("boom at 57");
        assertThat(Thread.currentThread().getName()).doesNotStartWith("colo4j-cpu-");
    }
}

package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Softmax (plain and causal) and cross-entropy at every row length around the vector width (tails of every size, rows
 * of length 1, a causal row's partial vectors), with -inf logits, ignored rows and vocabulary padding, against double
 * references; and each row's bits the same whether it runs in a batch (split across threads) or alone.
 */
class RowKernelEdgesTest {
    private static final int[] LENGTHS = lengths();
    private final CpuBackend cpu = new CpuBackend();

    private static int[] lengths() {
        int[] n = new int[2 * Vec.L + 6];
        for (int i = 0; i < 2 * Vec.L + 2; i++) {
            n[i] = i + 1;
        }
        n[2 * Vec.L + 2] = 4 * Vec.L - 1;
        n[2 * Vec.L + 3] = 4 * Vec.L;
        n[2 * Vec.L + 4] = 4 * Vec.L + 1;
        n[2 * Vec.L + 5] = 9 * Vec.L + 5;
        return n;
    }

    /** Uniform logits with every 7th (not the first of a row) at -inf, as a mask or a padded vocabulary gives. */
    private static Tensor logits(long seed, int... shape) {
        Tensor x = Tensor.init(Init.uniform(seed, -6, 6), shape);
        int n = shape[shape.length - 1];
        float[] v = x.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            if (i % 7 == 3 && i % n != 0) {
                v[i] = Float.NEGATIVE_INFINITY;
            }
        }
        return Tensor.of(v, shape);
    }

    @Test
    void softmaxMatchesTheDoubleReferenceAtEveryTailLength() {
        for (int n : LENGTHS) {
            for (boolean causal : new boolean[] {false, true}) {
                Tensor x = logits(n, 2, n, n);
                Tensor y = Tensor.full(7f, 2, n, n); // not zeros: a causal row must write its zeros
                cpu.softmax(x, 0.7f, causal, y);
                float[] xs = x.toFloatArray();
                double[] ref = reference(xs, n, 0.7, causal);
                assertClose((causal ? "causal " : "") + "softmax n=" + n, y.toFloatArray(), ref, 2e-6);
                if (!causal) {
                    assertEachRowAloneGivesTheSameBits(x, y, n, 0.7f);
                }
            }
        }
    }

    @Test
    void longRowsTakeTheirOwnPathAndMatchTheReference() {
        int n = 4099; // past the length where rows stop being copied to the output first
        Tensor x = logits(7, 3, n);
        Tensor y = Tensor.full(7f, 3, n);
        cpu.softmax(x, 1.3f, false, y);
        float[] xs = x.toFloatArray();
        double[] ref = reference(xs, n, 1.3, false);
        assertClose("softmax n=" + n, y.toFloatArray(), ref, 2e-6);
        assertEachRowAloneGivesTheSameBits(x, y, n, 1.3f);
    }

    /** softmax(x scale) per row of n in double, a causal row over its first r % n + 1; the rest stays 0. */
    static double[] reference(float[] xs, int n, double scale, boolean causal) {
        double[] ref = new double[xs.length];
        for (int r = 0; r < xs.length / n; r++) {
            int valid = causal ? r % n + 1 : n;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < valid; i++) {
                max = Math.max(max, xs[r * n + i] * scale);
            }
            double sum = 0;
            for (int i = 0; i < valid; i++) {
                sum += Math.exp(xs[r * n + i] * scale - max);
            }
            for (int i = 0; i < valid; i++) {
                ref[r * n + i] = Math.exp(xs[r * n + i] * scale - max) / sum;
            }
        }
        return ref;
    }

    private void assertEachRowAloneGivesTheSameBits(Tensor x, Tensor y, int n, float scale) {
        float[] xs = x.toFloatArray();
        float[] ys = y.toFloatArray();
        for (int r = 0; r < xs.length / n; r += Math.max(1, n / 3)) {
            float[] row = java.util.Arrays.copyOfRange(xs, r * n, r * n + n);
            float[] expected = java.util.Arrays.copyOfRange(ys, r * n, r * n + n);
            Tensor alone = Tensor.zeros(1, n);
            cpu.softmax(Tensor.of(row, 1, n), scale, false, alone);
            assertThat(alone.toFloatArray()).as("row %d of n=%d alone", r, n).containsExactly(expected);
        }
    }

    @Test
    void crossEntropyMatchesTheDoubleReferenceWithPaddingIgnoredRowsAndMinusInfinity() {
        for (int v : LENGTHS) {
            int rows = 9;
            int valid = v > 3 ? v - 2 : v;
            Tensor x = logits(100 + v, rows, v);
            int[] ids = new int[rows];
            for (int r = 0; r < rows; r++) {
                ids[r] = r == 4 ? -100 : (r * 5 + 1) % valid;
                if (ids[r] != -100 && x.get(r, ids[r]) == Float.NEGATIVE_INFINITY) {
                    ids[r] = 0; // a target at -inf has an infinite loss; column 0 never is
                }
            }
            assertCrossEntropyMatchesTheReference(x, ids, valid, "v=" + v);
        }
    }

    /**
     * Forward takes each row's max beside the previous row's exps, so a thread's range begins with a max of its own and
     * ends without a next row: ignored rows at both ends of the 4-row ranges (and two in a row) must not shift a max.
     */
    @Test
    void crossEntropyKeepsEachRowsMaxAcrossIgnoredRowsAndTheEndsOfThreadRanges() {
        for (int v : new int[] {4096, 4100}) {
            int rows = 16; // rows of 4096 floats go to threads 4 at a time (Vec.rowGrain)
            float[] xs = logits(7 + v, rows, v).toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                int r = i / v;
                xs[i] += (r % 2 == 0 ? 100f : -100f) + r; // a neighbour's max as the shift over- or underflows
            }
            Tensor x = Tensor.of(xs, rows, v);
            int[] ids = new int[rows];
            for (int r = 0; r < rows; r++) {
                ids[r] = r == 0 || r == 3 || r == 4 || r == 7 || r == 8 || r == 15 ? -100 : (r * 389) % v;
                if (ids[r] != -100 && x.get(r, ids[r]) == Float.NEGATIVE_INFINITY) {
                    ids[r] = 0;
                }
            }
            assertCrossEntropyMatchesTheReference(x, ids, v, "v=" + v);
        }
    }

    private void assertCrossEntropyMatchesTheReference(Tensor x, int[] ids, int valid, String label) {
        int rows = x.size(0);
        int v = x.size(1);
        IntTensor targets = IntTensor.of(ids, rows);
        Tensor losses = Tensor.zeros(rows);
        Tensor lse = Tensor.zeros(rows);
        Tensor grad = Tensor.full(7f, rows, v);
        cpu.crossEntropy(x, targets, -100, valid, losses, lse);
        cpu.crossEntropyBackward(x, targets, -100, valid, lse, 0.25f, grad);
        float[] xs = x.toFloatArray();
        double[] refLoss = new double[rows];
        double[] refLse = new double[rows];
        double[] refGrad = new double[rows * v];
        for (int r = 0; r < rows; r++) {
            if (ids[r] == -100) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < valid; i++) {
                max = Math.max(max, xs[r * v + i]);
            }
            double sum = 0;
            for (int i = 0; i < valid; i++) {
                sum += Math.exp(xs[r * v + i] - max);
            }
            refLse[r] = max + Math.log(sum);
            refLoss[r] = refLse[r] - xs[r * v + ids[r]];
            for (int i = 0; i < valid; i++) {
                refGrad[r * v + i] = 0.25 * (Math.exp(xs[r * v + i] - refLse[r]) - (i == ids[r] ? 1 : 0));
            }
        }
        assertClose("log-sum-exp " + label, lse.toFloatArray(), refLse, 1e-6);
        assertClose("loss " + label, losses.toFloatArray(), refLoss, 1e-5);
        assertClose("grad " + label, grad.toFloatArray(), refGrad, 1e-6);
    }

    /** |actual - expected| <= tol (1 + |expected|), element by element; an expected 0 must be an exact 0. */
    private static void assertClose(String what, float[] actual, double[] expected, double tol) {
        assertThat(actual).as(what).hasSize(expected.length);
        for (int i = 0; i < actual.length; i++) {
            double bound = expected[i] == 0 ? 0 : tol * (1 + Math.abs(expected[i]));
            assertThat((double) Math.abs(actual[i] - expected[i])).as("%s at %d: %s vs %s", what, i, actual[i], expected[i])
                    .isLessThanOrEqualTo(bound);
        }
    }
}

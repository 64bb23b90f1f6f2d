package io.colo4j.ops.kernel.cpu;

import static io.colo4j.tensor.GradCheck.randomInput;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.functional.SoftmaxOps;
import io.colo4j.tensor.GradCheck;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The causal softmax kernel ({@link CausalSoftmax}): every block size around the vector width and across its row
 * groups, within 1e-6 relative of a double reference; masked entries exactly 0 whatever the row holds; the same bits
 * however the rows are split (alone, per block, across the pool's threads) and in every execution mode; its gradient.
 */
class CausalSoftmaxTest {
    private final CpuBackend cpu = new CpuBackend();

    /** Block sizes: 1, around one and two vectors, 37, 64 (the bench's), 100 (row groups start inside a block). */
    private static int[] sizes() {
        return new int[] {1, 2, Vec.L - 1, Vec.L, Vec.L + 1, 2 * Vec.L + 3, 37, 64, 100};
    }

    @Test
    void matchesTheDoubleReferenceToOneMillionthRelative() {
        for (int t : sizes()) {
            Tensor x = Tensor.init(Init.uniform(t, -6, 6), 3, t, t);
            Tensor y = Tensor.full(7f, 3, t, t); // not zeros: the kernel must write the masked zeros
            cpu.softmax(x, 0.37f, true, y);
            assertRelative("T=" + t, y.toFloatArray(), RowKernelEdgesTest.reference(x.toFloatArray(), t, 0.37, true), 1e-6);
        }
    }

    @Test
    void minusInfinityLargeInputsAndNaNKeepTheMaskExactlyZero() {
        int t = 2 * Vec.L + 3;
        float[] v = Tensor.init(Init.uniform(3, -6, 6), 1, t, t).toFloatArray();
        for (int i = 0; i < t; i++) {
            v[i * t + i / 2] = Float.NEGATIVE_INFINITY; // a masked-out key inside the kept prefix (row 0: its only one)
        }
        v[5 * t + 2] = 3e38f; // huge but finite: the shift keeps every exp in range
        v[6 * t + 1] = -3e38f;
        v[9 * t] = Float.NaN; // a NaN makes its row NaN, as a max-shifted softmax does, but not the masked future
        v[10 * t + 1] = Float.POSITIVE_INFINITY;
        Tensor y = Tensor.full(7f, 1, t, t);
        cpu.softmax(Tensor.of(v, 1, t, t), 1f, true, y);
        float[] out = y.toFloatArray();
        double[] ref = RowKernelEdgesTest.reference(v, t, 1, true);
        for (int r = 0; r < t; r++) {
            for (int c = 0; c < t; c++) {
                float got = out[r * t + c];
                if (c > r) {
                    assertThat(Float.floatToRawIntBits(got)).as("masked (%d, %d) is +0", r, c).isZero();
                } else if (r == 0 || r == 9 || r == 10) {
                    assertThat(got).as("(%d, %d) of a row with no finite max or a NaN", r, c).isNaN();
                } else {
                    double bound = 1e-6 * Math.abs(ref[r * t + c]);
                    assertThat((double) Math.abs(got - ref[r * t + c])).as("(%d, %d)", r, c).isLessThanOrEqualTo(bound);
                }
            }
        }
        assertThat(out[5 * t + 2]).isEqualTo(1f);
        assertThat(out[6 * t + 1]).isZero();
    }

    @Test
    void sameBitsAloneInABatchAcrossThreadsAndOnceCompiled() {
        int t = 64;
        int blocks = 48; // 3072 rows: the pool splits them into chunks across its threads
        Tensor x = Tensor.init(Init.uniform(11, -5, 5), blocks, t, t);
        float[] cold = Arrays.copyOf(run(x, t, 0.125f), 2 * t * t); // the first calls may run interpreted
        float[] batch = run(x, t, 0.125f);
        float[] xs = x.toFloatArray();
        for (int b = 0; b < blocks; b += 7) {
            float[] block = Arrays.copyOfRange(xs, b * t * t, (b + 1) * t * t);
            float[] alone = run(Tensor.of(block, 1, t, t), t, 0.125f);
            assertThat(alone).as("block %d alone", b).containsExactly(Arrays.copyOfRange(batch, b * t * t, (b + 1) * t * t));
        }
        // row groups that start inside a block: a [.., T, T] view whose rows the kernel sees as one long batch
        float[] offset = run(Tensor.of(Arrays.copyOfRange(xs, 5 * t * t, 8 * t * t), 3, t, t), t, 0.125f);
        assertThat(offset).containsExactly(Arrays.copyOfRange(batch, 5 * t * t, 8 * t * t));
        for (int i = 0; i < 100; i++) {
            run(x, t, 0.125f);
        }
        assertThat(run(x, t, 0.125f)).as("compiled vs first call").containsExactly(batch);
        assertThat(Arrays.copyOf(batch, 2 * t * t)).as("first calls vs the batch").containsExactly(cold);
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        GradCheck check = GradCheck.standard();
        for (int t : new int[] {1, 5, Vec.L + 3}) {
            check.check("causal softmax T=" + t, in -> SoftmaxOps.scaledSoftmax(in[0], 0.6f, true), randomInput(t, 1, 2, t, t));
        }
    }

    @Test
    void refusesRowsThatAreNotSquareBlocks() {
        assertThatThrownBy(() -> cpu.softmax(Tensor.zeros(2, 3, 4), 1f, true, Tensor.zeros(2, 3, 4)))
                .hasMessageContaining("causal softmax").hasMessageContaining("3x4");
        assertThatThrownBy(() -> cpu.softmax(Tensor.zeros(4), 1f, true, Tensor.zeros(4)))
                .hasMessageContaining("causal softmax").hasMessageContaining("[4]");
    }

    private float[] run(Tensor x, int t, float scale) {
        Tensor y = Tensor.zeros(x.shape());
        cpu.softmax(x, scale, true, y);
        return y.toFloatArray();
    }

    private static void assertRelative(String what, float[] actual, double[] expected, double rtol) {
        assertThat(actual).as(what).hasSize(expected.length);
        for (int i = 0; i < actual.length; i++) {
            double bound = rtol * Math.abs(expected[i]);
            assertThat((double) Math.abs(actual[i] - expected[i])).as("%s at %d: %s vs %s", what, i, actual[i], expected[i])
                    .isLessThanOrEqualTo(bound);
        }
    }
}

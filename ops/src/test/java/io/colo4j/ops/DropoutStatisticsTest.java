package io.colo4j.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Inverted dropout keeps a fraction 1 - p of the elements, each scaled by exactly 1 / (1 - p), so the mean is kept. */
class DropoutStatisticsTest {
    static final int N = 1 << 18;

    @ParameterizedTest(name = "p = {0}")
    @ValueSource(floats = {0.05f, 0.1f, 0.5f, 0.9f})
    void keepsOneMinusPScaledByItsInverse(float p) {
        float[] mask = F.dropout(Tensor.ones(N), p, true, 42).toFloatArray();
        float keep = 1f / (1f - p);
        long kept = 0;
        double sum = 0;
        for (float m : mask) {
            assertThat(m).isIn(0f, keep);
            kept += m == 0f ? 0 : 1;
            sum += m;
        }
        double sigma = Math.sqrt(N * p * (1.0 - p));
        assertThat((double) (N - kept)).as("dropped of %d", N).isCloseTo(N * (double) p, within(5 * sigma));
        assertThat(sum / N).as("mean").isCloseTo(1.0, within(5 * sigma * keep / N + 1e-6));
    }

    /** The definition (and the serial masks of every earlier release): element i dropped when unit(seed, i) <= p. */
    @Test
    void elementIIsDroppedWhenItsCounterBasedUniformIsAtMostP() {
        float p = 0.3f;
        float[] mask = F.dropout(Tensor.ones(4099), p, true, 1234567L).toFloatArray();
        for (int i = 0; i < mask.length; i++) {
            assertThat(mask[i]).as("element %d", i).isEqualTo(Init.Random.unit(1234567L, i) <= p ? 0f : 1f / (1f - p));
        }
    }

    @Test
    void masksOfTwoSeedsOrTwoHalvesAreUnrelated() {
        float[] a = F.dropout(Tensor.ones(N), 0.5f, true, 1).toFloatArray();
        float[] b = F.dropout(Tensor.ones(N), 0.5f, true, 2).toFloatArray();
        long same = 0;
        long sameHalves = 0;
        for (int i = 0; i < N; i++) {
            same += a[i] == b[i] ? 1 : 0;
            sameHalves += i < N / 2 && a[i] == a[i + N / 2] ? 1 : 0;
        }
        double sigma = Math.sqrt(N * 0.25);
        assertThat((double) same).isCloseTo(N / 2.0, within(5 * sigma));
        assertThat((double) sameHalves).isCloseTo(N / 4.0, within(5 * sigma / Math.sqrt(2)));
    }

    @Test
    void aProbabilityOutsideZeroToOneIsRefused() {
        assertThatThrownBy(() -> F.dropout(Tensor.ones(4), 1f, true, 1)).hasMessageContaining("p must be in [0, 1), got 1.0");
        assertThatThrownBy(() -> F.dropout(Tensor.ones(4), -0.1f, true, 1)).hasMessageContaining("got -0.1");
    }
}

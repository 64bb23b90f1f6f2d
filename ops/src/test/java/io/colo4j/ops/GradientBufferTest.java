package io.colo4j.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import org.junit.jupiter.api.Test;

/**
 * A weight's gradient is written where the weight's grad will live (issue 17: the head weight's gradient at the step's
 * peak): the linear's backward makes it in long-lived memory and the leaf takes it as it is, so a step never holds it in
 * step memory, nor twice; a second use of the weight adds into it; a weight that is not a leaf passes its gradient on.
 * The values are the ones the plain chain rule gives.
 */
class GradientBufferTest {
    static final int IN = 256;
    static final int OUT = 512;

    private static Tensor input() {
        return Tensor.init(Init.uniform(3, -1, 1), 2, IN);
    }

    /** d/dW of sum(y^2), y = x W: 2 x^T (x W), by hand. */
    private static float[] expected(Tensor x, Tensor w) {
        float[] xs = x.toFloatArray();
        float[] ws = w.toFloatArray();
        float[] g = new float[IN * OUT];
        for (int r = 0; r < 2; r++) {
            for (int o = 0; o < OUT; o++) {
                double y = 0;
                for (int i = 0; i < IN; i++) {
                    y += (double) xs[r * IN + i] * ws[i * OUT + o];
                }
                for (int i = 0; i < IN; i++) {
                    g[i * OUT + o] += (float) (2 * xs[r * IN + i] * y);
                }
            }
        }
        return g;
    }

    @Test
    void aWeightsGradientIsNeverStepMemory() {
        Parameter w = new Parameter(Init.normal(4, 0, 0.1f), IN, OUT);
        Tensor x = input();
        MemoryStats.resetStepPeak();
        try (MemoryScope step = MemoryScope.open()) {
            Tensor y = F.addmm(null, x, w);
            F.sum(F.mul(y, y)).backward();
        }
        long weightBytes = (long) IN * OUT * Float.BYTES;
        assertThat(MemoryStats.stepPeakBytes()).as("step peak (the weight's gradient is %d bytes)", weightBytes)
                .isLessThan(weightBytes / 4);
        assertCloseTo(w.grad().toFloatArray(), expected(x, w));
        // the adopted gradient is the leaf's own: it outlives the step, and the next backward adds into it
        try (MemoryScope step = MemoryScope.open()) {
            Tensor y = F.addmm(null, x, w);
            F.sum(F.mul(y, y)).backward();
        }
        float[] once = expected(x, w);
        float[] twice = new float[once.length];
        for (int i = 0; i < once.length; i++) {
            twice[i] = 2 * once[i];
        }
        assertCloseTo(w.grad().toFloatArray(), twice);
    }

    @Test
    void aWeightUsedTwiceAndALongLivedNonLeafGetTheirWholeGradients() {
        Parameter w = new Parameter(Init.normal(4, 0, 0.1f), IN, OUT);
        Tensor x = input();
        Tensor doubled = F.scale(w, 2f); // long-lived (made outside the step), not a leaf: its gradient flows on to w
        try (MemoryScope step = MemoryScope.open()) {
            Tensor a = F.addmm(null, x, w);
            Tensor b = F.addmm(null, x, w);
            Tensor c = F.addmm(null, x, doubled);
            F.add(F.add(F.sum(F.mul(a, a)), F.sum(F.mul(b, b))), F.sum(F.mul(c, c))).backward();
        }
        float[] once = expected(x, w);
        float[] viaDoubled = expected(x, doubled); // d/d(doubled), times 2 to w
        float[] want = new float[once.length];
        for (int i = 0; i < once.length; i++) {
            want[i] = 2 * once[i] + 2 * viaDoubled[i];
        }
        assertCloseTo(w.grad().toFloatArray(), want);
    }

    private static void assertCloseTo(float[] got, float[] want) {
        assertThat(got).hasSameSizeAs(want);
        for (int i = 0; i < got.length; i++) {
            assertThat((double) got[i]).as("element %d", i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-4 + 1e-4 * Math.abs(want[i])));
        }
    }
}

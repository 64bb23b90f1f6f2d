package io.colo4j.ops.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class GradClipTest {
    private static Parameter withGrad(Tensor grad) {
        Parameter p = new Parameter(Init.zeros(), grad.shape());
        p.setGrad(grad);
        return p;
    }

    @Test
    void clipsLikeTorchClipGradNorm() {
        // torch: a.grad=[3,4,0], b.grad=[[1,2],[2,4]], clip_grad_norm_([a, b], 2.0) -> 7.0710678, grads scaled by 2/(norm+1e-6)
        Parameter a = withGrad(Tensor.vector(3f, 4f, 0f));
        Parameter b = withGrad(Tensor.of(new float[] {1f, 2f, 2f, 4f}, 2, 2));
        double norm = GradClip.clip(List.of(a, b), 2.0);
        assertThat(norm).isCloseTo(7.0710678, within(1e-6));
        float[] ga = a.grad().toFloatArray();
        float[] gb = b.grad().toFloatArray();
        assertThat(ga[0]).isCloseTo(0.8485280275344849f, within(1e-6f));
        assertThat(ga[1]).isCloseTo(1.1313706636428833f, within(1e-6f));
        assertThat(gb[0]).isCloseTo(0.2828426659107208f, within(1e-6f));
        assertThat(gb[3]).isCloseTo(1.1313706636428833f, within(1e-6f));
    }

    @Test
    void theParallelScaleGivesScaleInPlacesBitsOnContiguousAndStridedGradients() {
        for (Tensor g : List.of(Tensor.init(Init.uniform(5, -3, 3), 3 * (1 << 16) + 37),
                Tensor.init(Init.uniform(6, -3, 3), 70, 33).mT())) {
            Tensor expected = g.copy().scaleInPlace(0.3f);
            GradClip.scale(g, 0.3f);
            assertThat(g.toFloatArray()).containsExactly(expected.toFloatArray());
        }
    }

    @Test
    void leavesGradientsAloneBelowTheThresholdAndSkipsMissingOnes() {
        Parameter a = withGrad(Tensor.vector(0.3f, 0.4f));
        Parameter none = new Parameter(Init.zeros(), 3);
        double norm = GradClip.clip(List.of(a, none), 1.0);
        assertThat(norm).isCloseTo(0.5, within(1e-7));
        assertThat(a.grad().toFloatArray()).containsExactly(0.3f, 0.4f);
        assertThat(none.grad()).isNull();
    }

    @Test
    void theSquaredNormPassesThroughTheReduction() {
        // A stand-in for an all-reduce over 4 ranks holding equal shards: the global norm doubles.
        Parameter a = withGrad(Tensor.vector(3f, 4f));
        AtomicReference<Double> seen = new AtomicReference<>();
        double norm = GradClip.clip(List.of(a), 100.0, local -> {
            seen.set(local);
            return 4 * local;
        });
        assertThat(seen.get()).isCloseTo(25.0, within(1e-9));
        assertThat(norm).isCloseTo(10.0, within(1e-9));
        GradClip.clip(List.of(a), 5.0, local -> 4 * local);
        assertThat(a.grad().toFloatArray()[0]).isCloseTo(1.5f, within(1e-5f));
    }

    @Test
    void sumOfSquaresHandlesLongAndStridedTensors() {
        int n = 10_007;
        float[] v = new float[n];
        double expected = 0;
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i);
            expected += (double) v[i] * v[i];
        }
        assertThat(GradClip.sumOfSquares(Tensor.vector(v))).isCloseTo(expected, within(1e-6 * expected));
        Tensor m = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1);
        assertThat(GradClip.sumOfSquares(m)).isEqualTo(91.0);
    }
}

package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Tensor;

/** How the equivalence tests compare a sharded run's tensor with the serial one: the largest error relative to the serial tensor's scale. */
public final class RelativeError {
    private RelativeError() {}

    public static void assertClose(String name, Tensor actual, Tensor expected, double rtol) {
        assertThat(actual.shape()).as(name).containsExactly(expected.shape());
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        double scale = 0;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - e[i]) / Math.max(scale, 1e-30));
        }
        assertThat(worst).as("%s: largest error relative to its scale %s", name, scale).isLessThanOrEqualTo(rtol);
    }
}

package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Gradient accumulation, scaling and copies of tensors longer than two chunks go through the installed runner, range
 * by range, and give the bits of the one serial loop whatever order the ranges run in.
 */
class HostLoopsTest {
    @Test
    void longLoopsRunRangeByRangeThroughTheInstalledRunnerWithTheSerialBits() {
        int n = 5 * HostLoops.CHUNK + 37; // a partial last range and a tail past the last full vector
        Tensor a = Tensor.init(Init.uniform(1, -2, 2), n);
        Tensor b = Tensor.init(Init.uniform(2, -2, 2), n);
        float[] xa = a.toFloatArray();
        float[] xb = b.toFloatArray();
        AtomicInteger ranges = new AtomicInteger();
        HostLoops.install((count, grain, body) -> {
            for (int i = count - 1; i >= 0; i--) { // last range first: no order may matter
                ranges.incrementAndGet();
                body.run(i, i + 1);
            }
        });
        try {
            Tensor sum = a.copy().addInPlace(b).scaleInPlace(0.37f);
            float[] got = sum.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertThat(got[i]).as("element %d", i).isEqualTo((xa[i] + xb[i]) * 0.37f);
            }
            assertThat(ranges.get()).as("ranges through the runner: copy, add, scale").isEqualTo(3 * 6);
        } finally {
            HostLoops.install((count, grain, body) -> body.run(0, count));
        }
    }
}

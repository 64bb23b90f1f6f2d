package io.colo4j.zoo.bert;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.IntTensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** dp ranks masking their rows of a window together mask exactly as the whole window is masked, and know its count. */
class BertMaskingSliceTest {
    static IntTensor window(int rows, int cols) {
        int[] v = new int[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 31 + 7) % 200;
        }
        return IntTensor.of(v, rows, cols);
    }

    static void assertSlicesMatchTheWhole(IntTensor whole, long seed, float probability, int dp) {
        BertMasking.Masked serial = BertMasking.mask(whole, seed, 257, 256, probability);
        int rows = whole.shape()[0] / dp;
        int cols = whole.shape()[1];
        int[] inputs = new int[whole.numel()];
        int[] labels = new int[whole.numel()];
        int counted = 0;
        for (int r = 0; r < dp; r++) {
            int[] part = Arrays.copyOfRange(whole.data(), r * rows * cols, (r + 1) * rows * cols);
            BertMasking.Masked m = BertMasking.mask(IntTensor.of(part, rows, cols), seed, 257, 256, probability,
                    (long) r * rows * cols, whole.numel());
            System.arraycopy(m.inputs().data(), 0, inputs, r * rows * cols, rows * cols);
            System.arraycopy(m.labels().data(), 0, labels, r * rows * cols, rows * cols);
            assertThat(m.windowCount()).as("dp rank %d's window count", r).isEqualTo(serial.count());
            counted += m.count();
        }
        assertThat(inputs).isEqualTo(serial.inputs().data());
        assertThat(labels).isEqualTo(serial.labels().data());
        assertThat(counted).isEqualTo(serial.count());
    }

    @Test
    void slicesOfTheBatchMaskAsTheWholeBatch() {
        for (long seed = 1; seed <= 20; seed++) {
            assertSlicesMatchTheWhole(window(8, 16), seed, BertMasking.PROBABILITY, 2);
            assertSlicesMatchTheWhole(window(8, 16), seed, BertMasking.PROBABILITY, 4);
        }
    }

    @Test
    void aWindowWithNothingDrawnGetsOnePositionOnOneRankOnly() {
        for (long seed = 1; seed <= 20; seed++) {
            assertSlicesMatchTheWhole(window(4, 4), seed, 1e-6f, 2);
        }
        assertThat(BertMasking.mask(window(4, 4), 3, 257, 256, 1e-6f).count()).isEqualTo(1);
    }
}

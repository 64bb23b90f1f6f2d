package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** A constant initializer fills whole blocks at once (zeros as a memset) with exactly what the per-element path gives. */
class InitConstantTest {
    @Test
    void aConstantFillsContiguousAndStridedBlocksAsThePerElementPathDoes() {
        for (float value : new float[] {0f, -0f, 1f, 0.25f}) {
            Init constant = Init.constant(value);
            Init perElement = index -> value; // the interface's default fill, element by element
            Tensor a = Tensor.full(7f, 4, 6);
            Tensor b = Tensor.full(7f, 4, 6);
            // a contiguous block (rows 1..2) and a strided one (columns 2..4 of every row)
            constant.fill(a.narrow(0, 1, 2), new int[] {8, 6}, new int[] {3, 0});
            perElement.fill(b.narrow(0, 1, 2), new int[] {8, 6}, new int[] {3, 0});
            constant.fill(a.narrow(1, 2, 3), new int[] {4, 9}, new int[] {0, 5});
            perElement.fill(b.narrow(1, 2, 3), new int[] {4, 9}, new int[] {0, 5});
            assertThat(bits(a.toFloatArray())).as("value %s", value).containsExactly(bits(b.toFloatArray()));
        }
    }

    @Test
    void aConstantBlockOutsideTheFullTensorIsRefused() {
        assertThatThrownBy(() -> Init.zeros().fill(Tensor.zeros(2, 3), new int[] {2, 3}, new int[] {1, 0}))
                .hasMessageContaining("lies outside the full tensor");
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}

package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The vector dropout loops draw exactly {@link DropoutBits#scale} for every element (the serial reference every backend
 * and shard must match): runs of global indices that start anywhere and end mid-vector, a bias row that wraps
 * mid-vector, p 0, p 0.1 and p 0.5, and once compiled.
 */
class DropoutKernelBitsTest {
    private final CpuBackend cpu = new CpuBackend();

    @Test
    void everyElementGetsTheScalarDrawsBits() {
        int c = 37;
        int rows = 26; // 962 elements: 74 runs of 13
        int n = rows * c;
        Tensor x = Tensor.init(Init.uniform(1, -2, 2), rows, c);
        Tensor residual = Tensor.init(Init.uniform(2, -1, 1), rows, c);
        Tensor bias = Tensor.init(Init.uniform(3, -1, 1), c);
        Tensor out = Tensor.zeros(rows, c);
        float[] xs = x.toFloatArray();
        float[] rs = residual.toFloatArray();
        float[] bs = bias.toFloatArray();
        // runs of 13 (not a multiple of any vector length), each starting at its own global index
        long[] starts = new long[(n + 12) / 13];
        for (int run = 0; run < starts.length; run++) {
            starts[run] = 1_000_003L * run + 7;
        }
        GlobalIndex index = new GlobalIndex(13, starts);
        for (int repeat = 0; repeat < 200; repeat++) { // the last repeats run C2's code
            for (float p : new float[] {0f, 0.1f, 0.5f}) {
                DropoutBits bits = DropoutBits.of(p, 11);
                cpu.dropout(bits, index, x, out);
                float[] dropped = out.toFloatArray();
                cpu.biasDropoutAdd(x, bias, residual, bits, index, out);
                float[] withBias = out.toFloatArray();
                cpu.biasDropoutAdd(x, null, residual, bits, index, out);
                float[] withoutBias = out.toFloatArray();
                if (repeat % 50 != 49) {
                    continue;
                }
                for (int e = 0; e < n; e++) {
                    long g = index.start(e / index.runLength()) + e % index.runLength();
                    float scale = p == 0f ? bits.keep() : bits.scale(g);
                    assertThat(dropped[e]).as("dropout element %d (global %d), p %s", e, g, p).isEqualTo(xs[e] * scale);
                    assertThat(withBias[e]).as("bias_dropout_add element %d, p %s", e, p)
                            .isEqualTo(rs[e] + (xs[e] + bs[e % c]) * scale);
                    assertThat(withoutBias[e]).as("dropout_add element %d, p %s", e, p).isEqualTo(rs[e] + xs[e] * scale);
                }
            }
        }
    }
}

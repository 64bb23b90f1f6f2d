package io.colo4j.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.functional.Losses;
import io.colo4j.tensor.GradCheck;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Forward values against plain scalar references, vector tails included, and the shape errors. */
class OpForwardTest {
    private static Tensor random(long seed, int... shape) {
        return Tensor.init(Init.uniform(seed, -2f, 2f), shape);
    }

    @Test
    void softmaxRowsSumToOneAndCausalMasksTheFuture() {
        Tensor x = random(1, 2, 19, 19);
        Tensor y = io.colo4j.ops.functional.SoftmaxOps.scaledSoftmax(x, 0.5f, true);
        for (int r = 0; r < 19; r++) {
            double sum = 0;
            double expSum = 0;
            for (int c = 0; c <= r; c++) {
                expSum += Math.exp(0.5 * x.get(1, r, c));
            }
            for (int c = 0; c < 19; c++) {
                float v = y.get(1, r, c);
                sum += v;
                if (c > r) {
                    assertThat(v).isZero();
                } else {
                    assertThat((double) v).isCloseTo(Math.exp(0.5 * x.get(1, r, c)) / expSum, within(1e-6));
                }
            }
            assertThat(sum).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void layerNormMatchesDefinition() {
        Tensor x = random(2, 3, 67);
        Tensor g = random(3, 67);
        Tensor b = random(4, 67);
        Tensor y = F.layerNorm(x, g, b, 1e-5f);
        for (int r = 0; r < 3; r++) {
            double mean = 0;
            double var = 0;
            for (int i = 0; i < 67; i++) {
                mean += x.get(r, i);
            }
            mean /= 67;
            for (int i = 0; i < 67; i++) {
                var += Math.pow(x.get(r, i) - mean, 2);
            }
            var /= 67;
            for (int i = 0; i < 67; i++) {
                double expected = (x.get(r, i) - mean) / Math.sqrt(var + 1e-5) * g.get(i) + b.get(i);
                assertThat((double) y.get(r, i)).isCloseTo(expected, within(1e-4));
            }
        }
    }

    @Test
    void geluMatchesTheTanhFormula() {
        Tensor x = random(5, 101);
        Tensor y = F.gelu(x);
        for (int i = 0; i < 101; i++) {
            double v = x.get(i);
            double expected = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            assertThat((double) y.get(i)).isCloseTo(expected, within(1e-5));
        }
    }

    @Test
    void crossEntropyMatchesLogSoftmaxAndIgnoresPadding() {
        Tensor logits = random(6, 4, 11);
        IntTensor targets = IntTensor.of(new int[] {3, -100, 0, 7}, 4);
        double expected = 0;
        for (int r : new int[] {0, 2, 3}) {
            double sum = 0;
            for (int c = 0; c < 9; c++) {
                sum += Math.exp(logits.get(r, c));
            }
            expected += Math.log(sum) - logits.get(r, targets.get(r));
        }
        expected /= 3;
        float loss = Losses.crossEntropy(logits, targets, -100, 9).item();
        assertThat((double) loss).isCloseTo(expected, within(1e-5));
        assertThatThrownBy(() -> Losses.crossEntropy(logits, IntTensor.of(new int[] {3, 1, 0, 9}, 4), -100, 9))
                .hasMessageContaining("target 9");
    }

    @Test
    void dropoutIsDeterministicAndUnbiased() {
        Tensor x = Tensor.ones(10000);
        float[] a = F.dropout(x, 0.25f, true, 7).toFloatArray();
        float[] b = F.dropout(x, 0.25f, true, 7).toFloatArray();
        assertThat(a).containsExactly(b);
        double mean = 0;
        for (float v : a) {
            mean += v;
        }
        assertThat(mean / a.length).isCloseTo(1.0, within(0.03));
        assertThat(F.dropout(x, 0.25f, false, 7)).isSameAs(x);
    }

    @Test
    void linearMatchesNaiveProduct() {
        Tensor x = random(7, 5, 33);
        Tensor w = random(8, 17, 33);
        Tensor bias = random(9, 17);
        Tensor y = F.linear(x, w, bias);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 17; j++) {
                double s = bias.get(j);
                for (int k = 0; k < 33; k++) {
                    s += x.get(i, k) * w.get(j, k);
                }
                assertThat((double) y.get(i, j)).isCloseTo(s, within(1e-4));
            }
        }
    }

    @Test
    void shapeErrorsNameOpAndShapes() {
        assertThatThrownBy(() -> F.matmul(Tensor.zeros(2, 3), Tensor.zeros(4, 5)))
                .hasMessageContaining("matmul").hasMessageContaining("[2, 3]").hasMessageContaining("[4, 5]");
        assertThatThrownBy(() -> F.linear(Tensor.zeros(2, 3), Tensor.zeros(4, 5), null))
                .hasMessageContaining("linear").hasMessageContaining("[4, 5]");
        assertThatThrownBy(() -> F.add(Tensor.zeros(2, 3), Tensor.zeros(4)))
                .hasMessageContaining("add").hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> F.layerNorm(Tensor.zeros(2, 3), Tensor.zeros(4), Tensor.zeros(4), 1e-5f))
                .hasMessageContaining("layer_norm");
        assertThatThrownBy(() -> F.embedding(IntTensor.of(new int[] {9}, 1), Tensor.zeros(4, 2)))
                .hasMessageContaining("embedding").hasMessageContaining("id 9");
        assertThatThrownBy(() -> F.softmax(Tensor.zeros(2, 3), 0)).hasMessageContaining("softmax");
        assertThatThrownBy(() -> F.causalAttention(Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 4, 4)))
                .hasMessageContaining("attention");
        assertThatThrownBy(() -> F.crossEntropy(Tensor.zeros(3, 5), IntTensor.of(new int[] {1, 2}, 2)))
                .hasMessageContaining("cross_entropy");
    }

    @Test
    void randomInputHelperRequiresGrad() {
        assertThat(GradCheck.randomInput(1, 1, 2).requiresGrad()).isTrue();
    }
}

package io.colo4j.ops;

import static io.colo4j.tensor.GradCheck.randomInput;
import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.functional.Losses;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.PoisonedScope;
import io.colo4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Operators allocate their outputs uninitialised ({@code Tensor.empty}) where a kernel writes them in full. In a
 * step scope over memory full of NaN, every op, forward and backward, must give the bits it gives over fresh
 * zeroed memory: an element a kernel skips (a masked column, an ignored row, a foreign embedding id) shows.
 */
class UninitialisedOutputTest {
    private static final long POISON_BYTES = 1 << 20;

    static Stream<Arguments> ops() {
        IntTensor ids = IntTensor.of(new int[] {3, 0, 3, 9, 1, 2}, 2, 3);
        IntTensor targets = IntTensor.of(new int[] {1, -100, 6, 0, 2, 6}, 2, 3);
        return Stream.of(
                op("matmul", in -> F.matmul(in[0], in[1]), randomInput(1, 1, 2, 3, 4), randomInput(2, 1, 2, 4, 5)),
                op("linear", in -> F.linear(in[0], in[1], in[2]), randomInput(3, 1, 2, 3, 4), randomInput(4, 1, 5, 4), randomInput(5, 1, 5)),
                op("linear without bias", in -> F.linear(in[0], in[1], null), randomInput(6, 1, 3, 4), randomInput(7, 1, 2, 4)),
                op("addmm", in -> F.addmm(in[2], in[0], in[1]), randomInput(8, 1, 3, 4), randomInput(9, 1, 4, 5), randomInput(10, 1, 5)),
                op("broadcast add", in -> F.add(in[0], in[1]), randomInput(11, 1, 2, 3, 4), randomInput(12, 1, 3, 1)),
                op("div", in -> F.div(in[0], F.add(F.mul(in[1], in[1]), Tensor.scalar(1f))), randomInput(13, 1, 3, 4), randomInput(14, 1, 4)),
                op("scale, sum, mean", in -> F.add(F.sum(F.scale(in[0], 3f)), F.mean(in[0])), randomInput(15, 1, 3, 4)),
                op("gelu", in -> F.gelu(in[0]), randomInput(16, 3, 4, 37)),
                op("dropout", in -> F.dropout(in[0], 0.3f, true, 99), randomInput(17, 1, 4, 37)),
                op("bias_gelu", in -> F.biasGelu(in[0], in[1]), randomInput(35, 1, 3, 37), randomInput(36, 1, 37)),
                op("bias_dropout_add", in -> F.biasDropoutAdd(in[0], in[1], in[2], 0.3f, true, 99),
                        randomInput(37, 1, 3, 37), randomInput(38, 1, 37), randomInput(39, 1, 3, 37)),
                op("softmax", in -> F.softmax(in[0], -1), randomInput(18, 2, 3, 37)),
                op("layer_norm", in -> F.layerNorm(in[0], in[1], in[2], 1e-5f), randomInput(19, 2, 3, 37), randomInput(20, 1, 37), randomInput(21, 1, 37)),
                op("rms_norm", in -> F.rmsNorm(in[0], in[1], 1e-6f), randomInput(22, 2, 3, 37), randomInput(23, 1, 37)),
                op("causal attention", in -> F.causalAttention(in[0], in[1], in[2]),
                        randomInput(24, 1, 2, 2, 5, 4), randomInput(25, 1, 2, 2, 5, 4), randomInput(26, 1, 2, 2, 5, 4)),
                op("attention with bias", in -> F.attention(in[0], in[1], in[2], in[3], false, 1f),
                        randomInput(27, 1, 2, 2, 3, 4), randomInput(28, 1, 2, 2, 5, 4), randomInput(29, 1, 2, 2, 5, 6), randomInput(30, 1, 1, 2, 3, 5)),
                op("embedding shard with foreign ids", in -> io.colo4j.ops.functional.Embeddings.shard(ids, in[0], 2), randomInput(31, 1, 6, 4)),
                op("cross_entropy with ignored rows and padding", in -> Losses.crossEntropy(in[0], targets, -100, 7), randomInput(32, 3, 2, 3, 9)),
                op("cat and contiguous", in -> Tensor.cat(1, in[0].mT().contiguous(), in[1]), randomInput(33, 1, 4, 3), randomInput(34, 1, 3, 2)));
    }

    private static Arguments op(String name, Function<Tensor[], Tensor> fn, Tensor... inputs) {
        return Arguments.of(name, fn, inputs);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void writesEveryElementOfItsOutputs(String name, Function<Tensor[], Tensor> fn, Tensor[] inputs) {
        List<float[]> fresh = run(fn, inputs);
        List<float[]> poisoned;
        try (MemoryScope step = PoisonedScope.open(POISON_BYTES)) {
            poisoned = run(fn, inputs);
        }
        assertThat(poisoned).hasSameSizeAs(fresh);
        for (int i = 0; i < fresh.size(); i++) {
            assertThat(java.util.Arrays.equals(poisoned.get(i), fresh.get(i)))
                    .as("%s: %s over reused memory %s, over zeroed memory %s", name, i == 0 ? "output" : "gradient of input " + (i - 1),
                            java.util.Arrays.toString(poisoned.get(i)), java.util.Arrays.toString(fresh.get(i)))
                    .isTrue();
        }
    }

    /** The output, then each input's gradient for a fixed upstream gradient. */
    private static List<float[]> run(Function<Tensor[], Tensor> fn, Tensor[] inputs) {
        for (Tensor t : inputs) {
            t.zeroGrad();
        }
        Tensor out = fn.apply(inputs);
        List<float[]> result = new ArrayList<>();
        result.add(out.toFloatArray());
        float[] g = new float[(int) out.numel()];
        for (int i = 0; i < g.length; i++) {
            g[i] = 0.5f + 0.25f * (i % 7);
        }
        out.backward(Tensor.of(g, out.shape()));
        for (Tensor t : inputs) {
            result.add(t.grad() == null ? new float[0] : t.grad().toFloatArray());
        }
        return result;
    }
}

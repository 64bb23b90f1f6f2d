package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.sizing.ActivationLayouts;
import io.colo4j.zoo.sizing.ProxyTrace;
import io.colo4j.zoo.sizing.StepTrace;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Activation bytes per rank as the sizing plan gives them (traced proxies of at most 3 layers and a vocabulary of
 * 64 x tp, scaled to the model's layers, vocabulary, batch and seq) against the step-scoped peak of a measured step
 * of the whole model at that window: within 10% (the bound), and within 2% at batch >= 2. At batch 1 the sizing
 * counts a few [b, s, h] copies per layer that are views at batch 1 (the proxies are traced at batch 2 and up), so it
 * is high by up to 10% there.
 */
class ActivationSizingMeasuredTest {
    static Stream<Arguments> runs() {
        return Stream.of(
                // 2 layers, vocabulary 256: the vocabulary is what is scaled
                Arguments.of("gpt2", "tiny", 1, 2, 32),
                Arguments.of("gpt2", "tiny", 2, 4, 16),
                // 4 layers: the middle layer stands for two; seq 64 puts weight on the attention scores
                Arguments.of("gpt2", "mini", 1, 1, 64),
                Arguments.of("gpt2", "mini", 2, 2, 48),
                Arguments.of("opt", "tiny", 2, 2, 16),
                Arguments.of("llama", "tiny", 2, 2, 16),
                // an encoder with its padding mask and masked-LM head; an encoder-decoder whose every decoder layer reads the encoder output
                Arguments.of("bert", "tiny", 1, 2, 32),
                Arguments.of("bert", "tiny", 2, 4, 16),
                Arguments.of("t5", "tiny", 1, 2, 32),
                Arguments.of("t5", "tiny", 2, 4, 16));
    }

    @ParameterizedTest(name = "{0} {1} tp={2} {3}x{4}")
    @MethodSource("runs")
    void sizedActivationsMatchAMeasuredStep(String model, String config, int tp, int batch, int seq) {
        ModelZoo.Family family = ModelZoo.family(model);
        long sized = ActivationLayouts.bytesPerRank(ProxyTrace.of(family, config, tp, null).activations(), Recompute.NONE, false,
                batch, seq);
        long measured = StepTrace.run(family, () -> family.build(config, 1234), tp, 1, List.of(new StepTrace.Window(batch, seq)))
                .stepPeakBytesPerRank().get(0);
        System.out.printf("%s %s tp=%d %dx%d: sized %,d measured %,d (%.3f)%n", model, config, tp, batch, seq, sized, measured,
                (double) sized / measured);
        assertThat((double) sized).isCloseTo(measured, org.assertj.core.data.Percentage.withPercentage(batch == 1 ? 10 : 2));
        if (batch == 1) {
            assertThat(sized).isGreaterThanOrEqualTo(measured);
        }
    }
}

package io.colo4j.tests;

import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.sizing.ActivationLayouts;
import io.colo4j.zoo.sizing.ProxyTrace;
import io.colo4j.zoo.sizing.StepTrace;
import io.colo4j.tensor.autograd.Recompute;
import java.util.List;
import org.assertj.core.api.SoftAssertions;
import org.assertj.core.data.Percentage;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Activation bytes per rank as the sizing plan gives them (proxies of at most 3 layers traced under each layout, scaled
 * to the model's layers, batch and seq) against the step-scoped peak of a measured step of the whole model at that
 * window, in every layout (recompute none, selective, full; with and, at tp > 1, without sequence parallelism): within
 * 10% (the bound), and within 2% at batch >= 2 (5% under full recompute: at these tiny widths and a seq twice
 * the proxies' longest, a recomputed layer's backward is sized up to 3% low). At batch 1 the sizing counts a few
 * [b, s, h] copies per layer that are views at batch 1 (the proxies are traced at batch 2 and up), so it is high by up
 * to 10% there, never low, but under full recompute, whose recomputed layer holds more at batch 1 than the batch >= 2
 * fit says (GPT-2 mini at tp 4, 1 x 64: 10% low; GPT-2 small at seq 1024: exact).
 */
class ActivationSizingMeasuredTest {
    static Stream<Arguments> runs() {
        return Stream.of(
                // 2 layers, vocabulary 256
                Arguments.of("gpt2", "tiny", 1, 2, 32),
                Arguments.of("gpt2", "tiny", 2, 4, 16),
                // 4 layers: the middle layer stands for two; seq 64 puts weight on the attention scores
                Arguments.of("gpt2", "mini", 1, 1, 64),
                Arguments.of("gpt2", "mini", 2, 2, 48),
                Arguments.of("gpt2", "mini", 4, 2, 64),
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
    void sizedActivationsMatchAMeasuredStepInEveryLayout(String model, String config, int tp, int batch, int seq) {
        ModelZoo.Family family = ModelZoo.family(model);
        ActivationLayouts sizing = ProxyTrace.of(family, config, tp).activations();
        SoftAssertions soft = new SoftAssertions();
        for (ActivationLayouts.Layout layout : ActivationLayouts.layouts(tp)) {
            long sized = sizing.bytesPerRank(layout, batch, seq);
            ModelZoo.Family f = family.withSequenceParallel(layout.sequenceParallel());
            long measured = StepTrace.run(f, () -> f.build(config, 1234), tp, 1, List.of(new StepTrace.Window(batch, seq)),
                    layout.recompute()).stepPeakBytesPerRank().get(0);
            System.out.printf("%s %s tp=%d %dx%d %s: sized %,d measured %,d (%.3f)%n", model, config, tp, batch, seq, layout, sized,
                    measured, (double) sized / measured);
            boolean full = layout.recompute() == Recompute.FULL;
            soft.assertThat((double) sized).as("%s", layout).isCloseTo(measured, Percentage.withPercentage(batch == 1 ? 10 : full ? 5 : 2));
            if (batch == 1 && !full) {
                soft.assertThat(sized).as("%s", layout).isGreaterThanOrEqualTo(measured);
            }
        }
        soft.assertAll();
    }
}

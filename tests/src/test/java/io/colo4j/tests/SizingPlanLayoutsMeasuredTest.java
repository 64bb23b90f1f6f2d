package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.sizing.ActivationLayouts;
import io.colo4j.zoo.sizing.CommPerStep;
import io.colo4j.zoo.sizing.ProxyTrace;
import io.colo4j.zoo.sizing.SizingPlan;
import io.colo4j.zoo.sizing.StepTrace;
import java.util.List;
import java.util.OptionalLong;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sizing plan's communication in every activation layout against a measured step of the full model in that layout,
 * collective by collective (module with its layer index, op, kind, bytes, phase): full recompute runs each layer's
 * forward collectives again in backward (traced as forward), selective recompute under sequence parallelism all-gathers
 * the column inputs a layer gave back again in backward. One proxy trace per family serves every layout.
 */
class SizingPlanLayoutsMeasuredTest {
    private static final int BATCH = 2;
    private static final int SEQ = 16;

    @ParameterizedTest(name = "{0} {1} tp={2}")
    // gpt2 mini: 4 layers, so the proxy's middle layer stands for two
    @CsvSource({"gpt2, mini, 2", "gpt2, tiny, 4", "opt, tiny, 2", "llama, tiny, 2", "bert, tiny, 2", "t5, tiny, 2"})
    void planEqualsTheMeasuredStepInEveryLayout(String model, String config, int tp) {
        ModelZoo.Family family = ModelZoo.family(model);
        ProxyTrace trace = ProxyTrace.of(family, config, tp);
        SoftAssertions soft = new SoftAssertions();
        long plainCount = -1;
        for (ActivationLayouts.Layout layout : ActivationLayouts.layouts(tp)) {
            SizingPlan plan = SizingPlan.of(new SizingPlan.Request(family, config, tp, 1, 0, BATCH, SEQ, layout.recompute()), trace, layout);
            ModelZoo.Family f = family.withSequenceParallel(layout.sequenceParallel());
            List<CommTrace.Record> measured = StepTrace.run(f, () -> f.build(config, 1234), tp, 1, List.of(new StepTrace.Window(BATCH, SEQ)),
                    layout.recompute()).windows().get(0);
            soft.assertThat(plan.communication().complete()).as("%s: every collective grows as batch x seq", layout).isTrue();
            soft.assertThat(plan.communication().expand()).as("%s", layout).containsExactlyInAnyOrderElementsOf(measured);
            long bytes = measured.stream().mapToLong(CommTrace.Record::bytes).sum();
            soft.assertThat(plan.communication().total()).as("%s", layout).isEqualTo(new CommPerStep.Tally(measured.size(), OptionalLong.of(bytes)));
            if (layout.recompute() == Recompute.NONE && !layout.sequenceParallel()) {
                plainCount = measured.size();
            } else if (layout.recompute() == Recompute.FULL) {
                soft.assertThat((long) measured.size()).as("%s reruns the forward collectives", layout).isGreaterThan(plainCount);
            }
        }
        soft.assertAll();
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.sizing.ActivationLayouts;
import io.colo4j.zoo.sizing.SizingPlan;
import org.junit.jupiter.api.Test;

/**
 * The activation sizing of sequence-parallel rules: every layout is traced with sequence parallelism switched on or off
 * as the layout says, whatever the rules file says, so the plan of SP rules sizes every layout exactly as the plan of
 * the same rules without SP does; a run's header sizes communication only.
 */
class SequenceParallelSizingTest {
    private static final int BATCH = 2;
    private static final int SEQ = 32;

    @Test
    void sequenceParallelRulesAreSizedAsTheirPlainRulesInEveryLayout() {
        ModelZoo.Family gpt2 = ModelZoo.family("gpt2");
        SizingPlan plain = SizingPlan.of(new SizingPlan.Request(gpt2, "tiny", 2, 1, 0, BATCH, SEQ));
        SizingPlan sp = SizingPlan.of(new SizingPlan.Request(gpt2.withSequenceParallel(true), "tiny", 2, 1, 0, BATCH, SEQ));
        for (ActivationLayouts.Layout l : ActivationLayouts.layouts(2)) {
            long expected = plain.activations().bytesPerRank(l, BATCH, SEQ);
            assertThat(sp.activations().bytesPerRank(l, BATCH, SEQ)).as("%s", l).isEqualTo(expected);
        }
        long none = plain.activations().bytesPerRank(new ActivationLayouts.Layout(io.colo4j.tensor.autograd.Recompute.NONE, false), BATCH, SEQ);
        long split = plain.activations().bytesPerRank(new ActivationLayouts.Layout(io.colo4j.tensor.autograd.Recompute.NONE, true), BATCH, SEQ);
        assertThat(split).as("sequence parallelism splits something").isLessThan(none);
    }

    @Test
    void aRunsHeaderSizesCommunicationOnly() {
        SizingPlan header = SizingPlan.communicationOf(new SizingPlan.Request(ModelZoo.family("gpt2"), "tiny", 2, 1, 0, 1, SEQ));
        assertThat(header.activations()).isNull();
        assertThat(header.communication().rows()).isNotEmpty();
    }
}

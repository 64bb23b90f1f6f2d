package io.colo4j.zoo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code withSequenceParallel} says what a run asks for, whatever was asked of the family before. */
class FamilySequenceParallelTest {
    private final ModelZoo.Family gpt2 = ModelZoo.family("gpt2");

    @Test
    void falseGoesBackToWhatTheRulesFileSays() {
        ModelZoo.Family on = gpt2.withSequenceParallel(true);
        assertThat(on.rules().sequenceParallel()).isTrue();
        ModelZoo.Family off = on.withSequenceParallel(false);
        assertThat(off.sequenceParallel()).isNull();
        assertThat(off.rules().sequenceParallel()).isEqualTo(gpt2.rules().sequenceParallel()).isFalse();
    }

    @Test
    void trueOverridesAnEarlierSwitchOff() {
        ModelZoo.Family on = gpt2.withoutSequenceParallel().withSequenceParallel(true);
        assertThat(on.rules().sequenceParallel()).isTrue();
    }

    @Test
    void otherSettingsAreKept() {
        ModelZoo.Family off = gpt2.withSequenceParallel(true).withSequenceParallel(false);
        assertThat(off.name()).isEqualTo(gpt2.name());
        assertThat(off.rulesResource()).isEqualTo(gpt2.rulesResource());
        assertThat(off.rulesFile()).isEqualTo(gpt2.rulesFile());
    }
}

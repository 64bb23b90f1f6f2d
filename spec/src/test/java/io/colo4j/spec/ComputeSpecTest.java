package io.colo4j.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ComputeSpecTest {

    @Test
    void defaultsToAReplicatedOutputAsColossalAi() {
        assertThat(ComputeSpec.tp1d().outputReplicate()).isTrue();
        assertThat(new ComputeSpec(ComputePattern.TP1D).outputReplicate()).isTrue();
        assertThat(ComputeSpec.tp1d().pattern()).isEqualTo(ComputePattern.TP1D);
    }

    @Test
    void withOutputReplicateReturnsACopy() {
        ComputeSpec replicated = ComputeSpec.tp1d();
        ComputeSpec distributed = replicated.withOutputReplicate(false);
        assertThat(distributed.outputReplicate()).isFalse();
        assertThat(replicated.outputReplicate()).isTrue();
        assertThat(distributed.withOutputReplicate(true)).isEqualTo(replicated);
        assertThat(distributed).hasToString("compute(tp1d, outputReplicate=false)");
    }

    @Test
    void needsAPattern() {
        assertThatThrownBy(() -> new ComputeSpec(null, true))
                .isInstanceOf(SpecException.class).hasMessageContaining("needs a pattern");
    }
}

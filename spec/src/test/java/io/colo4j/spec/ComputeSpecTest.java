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

    @Test
    void sequenceParallelIsOffByDefaultAndWrittenOnlyWhenOn() {
        assertThat(ComputeSpec.tp1d().sequenceParallel()).isFalse();
        String plain = io.colo4j.spec.json.SpecJson.write(ComputeSpec.tp1d());
        assertThat(plain).doesNotContain("sequenceParallel");
        ComputeSpec sp = ComputeSpec.tp1d().withSequenceParallel(true);
        String json = io.colo4j.spec.json.SpecJson.write(sp);
        assertThat(json).contains("\"sequenceParallel\":true");
        assertThat(io.colo4j.spec.json.SpecJson.readComputeSpec(json)).isEqualTo(sp);
        assertThat(sp.withOutputReplicate(false).sequenceParallel()).isTrue();
    }
}

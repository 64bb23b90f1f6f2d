package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.ShardingPlan;
import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import org.junit.jupiter.api.Test;

/**
 * A tp that divides the width but not the head count (GPT-2 xl's 25 heads at tp = 2) is refused when
 * the spec is planned or set, naming parameter, shape and degree, not later inside attention.
 */
class HeadCountTest {
    @Test
    void coverageReportsHeadsThatTpDoesNotDivide() {
        ShardingPlan plan = ThreadWorld.call(1, comm -> {
            try (InitContext ctx = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return ModelZoo.family("gpt2").rules().plan(ModelZoo.family("gpt2").build("xl", 0), 2);
            }
        }).get(0);
        assertThat(plan.ok()).isFalse();
        assertThat(plan.errors().toString())
                .contains("transformer.h.0.attn.c_attn.weight").contains("[1600, 4800]").contains("25 units of 64")
                .contains("not divisible by 2");
        assertThat(ThreadWorld.call(1, comm -> {
            try (InitContext ctx = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return ModelZoo.family("gpt2").rules().plan(ModelZoo.family("gpt2").build("xl", 0), 5).ok();
            }
        }).get(0)).isTrue();
    }

    @Test
    void applyingRulesFailsBeforeAnyParameterChanges() {
        Gpt2Config sixHeads = Gpt2Config.of(64, 16, 48, 1, 6).withDropout(0f);
        assertThatThrownBy(() -> ThreadWorld.run(4, comm -> {
            Gpt2Model model;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(4, 1), comm, "cpu")) {
                model = new Gpt2Model(sixHeads, 0);
            }
            ShardingRules rules = ModelZoo.family("gpt2").rules();
            rules.apply(model);
        })).hasStackTraceContaining("attn.c_attn.weight").hasStackTraceContaining("[48, 144]")
                .hasStackTraceContaining("6 units of 8").hasStackTraceContaining("not divisible by 4");
    }
}

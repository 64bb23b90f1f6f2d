package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.ShardingPlan;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.opt.OptConfig;
import io.colo4j.zoo.opt.OptModel;
import org.junit.jupiter.api.Test;

/**
 * OPT with 6 heads of 8 (hidden 48, so tp = 4 divides the width but not the heads) is refused when the
 * rules are planned or applied, naming parameter, shape and degree, not later inside attention.
 */
class OptHeadCountTest {
    static final OptConfig SIX_HEADS = OptConfig.of(64, 16, 48, 1, 6, 96).withDropout(0f);

    @Test
    void planningReportsHeadsThatTpDoesNotDivide() {
        ShardingPlan plan = ThreadWorld.call(1, comm -> {
            try (InitContext _ = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return ModelZoo.family("opt").rules().plan(new OptModel(SIX_HEADS, 0), 4);
            }
        }).get(0);
        assertThat(plan.ok()).isFalse();
        assertThat(plan.errors().toString()).contains("model.decoder.layers.0.self_attn.q_proj.weight").contains("[48, 48]")
                .contains("6 units of 8").contains("not divisible by 4");
        assertThat(ThreadWorld.call(1, comm -> {
            try (InitContext _ = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return ModelZoo.family("opt").rules().plan(new OptModel(SIX_HEADS, 0), 3).ok();
            }
        }).get(0)).isTrue();
    }

    @Test
    void applyingRulesFailsBeforeAnyParameterChanges() {
        assertThatThrownBy(() -> ThreadWorld.run(4, comm -> {
            OptModel model;
            try (InitContext _ = InitContext.open(ProcessGroup.of(4, 1), comm, "cpu")) {
                model = new OptModel(SIX_HEADS, 0);
            }
            ModelZoo.family("opt").rules().apply(model);
        })).hasStackTraceContaining("self_attn.q_proj.weight").hasStackTraceContaining("[48, 48]")
                .hasStackTraceContaining("6 units of 8").hasStackTraceContaining("not divisible by 4");
    }
}

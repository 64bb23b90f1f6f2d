package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.ShardingPlan;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.llama.LlamaModel;
import org.junit.jupiter.api.Test;

/**
 * Grouped-query Llama: tp must divide the key/value heads, not just the query heads. 8 query heads of
 * 8 sharing 2 key/value heads at tp = 4 is refused on k_proj / v_proj when the rules are planned or
 * applied (q_proj's 8 heads alone would split), naming parameter, shape and degree.
 */
class LlamaHeadCountTest {
    static final LlamaConfig TWO_KV_HEADS = LlamaConfig.of(64, 16, 64, 128, 1, 8, 2);

    static ShardingPlan plan(LlamaConfig config, int tp) {
        return ThreadWorld.call(1, comm -> {
            try (InitContext _ = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return ModelZoo.family("llama").rules().plan(new LlamaModel(config, 0), tp);
            }
        }).get(0);
    }

    @Test
    void planningReportsKeyValueHeadsThatTpDoesNotDivide() {
        ShardingPlan plan = plan(TWO_KV_HEADS, 4);
        assertThat(plan.ok()).isFalse();
        String errors = plan.errors().toString();
        assertThat(errors).contains("model.layers.0.self_attn.k_proj.weight").contains("model.layers.0.self_attn.v_proj.weight")
                .contains("[16, 64]").contains("2 units of 8").contains("not divisible by 4")
                .doesNotContain("q_proj").doesNotContain("o_proj");
        assertThat(plan(TWO_KV_HEADS, 2).ok()).isTrue();
    }

    @Test
    void theLlama2And3ShapesPlanAtTp8ButNotAtTp16() {
        // llama-2-70b and llama-3-8b have 8 key/value heads
        assertThat(ThreadWorld.call(1, comm -> {
            try (InitContext _ = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                var family = ModelZoo.family("llama");
                return family.rules().plan(family.build("llama-3-8b", 0), 8).ok()
                        && !family.rules().plan(family.build("llama-3-8b", 0), 16).ok();
            }
        }).get(0)).isTrue();
    }

    @Test
    void applyingRulesFailsBeforeAnyParameterChanges() {
        assertThatThrownBy(() -> ThreadWorld.run(4, comm -> {
            LlamaModel model;
            try (InitContext _ = InitContext.open(ProcessGroup.of(4, 1), comm, "cpu")) {
                model = new LlamaModel(TWO_KV_HEADS, 0);
            }
            ModelZoo.family("llama").rules().apply(model);
        })).hasStackTraceContaining("self_attn.k_proj.weight").hasStackTraceContaining("[16, 64]")
                .hasStackTraceContaining("2 units of 8").hasStackTraceContaining("not divisible by 4");
    }
}

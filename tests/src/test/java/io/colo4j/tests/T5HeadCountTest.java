package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.RulesException;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.t5.T5Config;
import io.colo4j.zoo.t5.T5ForConditionalGeneration;
import org.junit.jupiter.api.Test;

/**
 * A tp that does not divide T5's head count (6 heads of 8 at tp = 4) is refused when the plan is made
 * or the rules are applied, naming the self-attention projections, the fused cross-attention key_value
 * (per fused block) and the relative position tables, before any parameter changes; tp = 2 and 3 plan
 * cleanly.
 */
class T5HeadCountTest {
    static final T5Config SIX_HEADS = new T5Config(50, 32, 8, 48, 1, 1, 6, 8, 16, 0f, 1e-6f, 1f, 32, 0, 0);

    static ShardingPlan plan(int tp) {
        return ThreadWorld.call(1, comm -> {
            try (InitContext ctx = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return ModelZoo.family("t5").rules().plan(new T5ForConditionalGeneration(SIX_HEADS, 0), tp);
            }
        }).get(0);
    }

    @Test
    void planningReportsHeadsThatTpDoesNotDivide() {
        ShardingPlan plan = plan(4);
        assertThat(plan.ok()).isFalse();
        assertThat(plan.errors().toString())
                .contains("encoder.block.0.layer.0.SelfAttention.q.weight").contains("[48, 32]").contains("6 units of 8")
                .contains("not divisible by 4")
                .contains("decoder.block.0.layer.1.EncDecAttention.key_value.weight").contains("[96, 32]").contains("per fused block")
                .contains("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").contains("[8, 6]");
        assertThat(plan(2).ok()).isTrue();
        assertThat(plan(3).ok()).isTrue();
    }

    @Test
    void applyingRulesFailsBeforeAnyParameterChanges() {
        assertThatThrownBy(() -> ThreadWorld.run(4, comm -> {
            T5ForConditionalGeneration model;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(4, 1), comm, "cpu")) {
                model = new T5ForConditionalGeneration(SIX_HEADS, 0);
            }
            try {
                ModelZoo.family("t5").rules().apply(model);
            } catch (RulesException e) {
                model.namedParameters().forEach((name, p) ->
                        assertThat(((ColoParameter) p).spec()).as("%s after the refusal", name).isEqualTo(DistSpec.replicate()));
                throw e;
            }
        })).hasStackTraceContaining("SelfAttention.q.weight").hasStackTraceContaining("6 units of 8")
                .hasStackTraceContaining("not divisible by 4");
    }
}

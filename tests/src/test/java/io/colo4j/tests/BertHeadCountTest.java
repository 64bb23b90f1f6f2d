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
import io.colo4j.zoo.bert.BertConfig;
import io.colo4j.zoo.bert.BertForMaskedLM;
import org.junit.jupiter.api.Test;

/**
 * A tp that does not divide BERT's head count (6 heads of 8 at tp = 4, though the width 48 divides) is
 * refused when the plan is made or the rules are applied, naming parameter, shape and degree, before
 * any parameter changes; tp = 2 and 3 plan cleanly.
 */
class BertHeadCountTest {
    static final BertConfig SIX_HEADS = new BertConfig(50, 48, 1, 6, 96, "gelu", 0f, 0f, 16, 2, 0.02f, 1e-12f, 0, 49, true);

    static ShardingPlan plan(int tp) {
        return ThreadWorld.call(1, comm -> {
            try (InitContext ctx = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return ModelZoo.family("bert").rules().plan(new BertForMaskedLM(SIX_HEADS, 0), tp);
            }
        }).get(0);
    }

    @Test
    void planningReportsHeadsThatTpDoesNotDivide() {
        ShardingPlan plan = plan(4);
        assertThat(plan.ok()).isFalse();
        assertThat(plan.errors().toString())
                .contains("bert.encoder.layer.0.attention.self.query.weight").contains("[48, 48]").contains("6 units of 8")
                .contains("not divisible by 4")
                .contains("bert.encoder.layer.0.attention.output.dense.weight");
        assertThat(plan(2).ok()).isTrue();
        assertThat(plan(3).ok()).isTrue();
    }

    @Test
    void applyingRulesFailsBeforeAnyParameterChanges() {
        assertThatThrownBy(() -> ThreadWorld.run(4, comm -> {
            BertForMaskedLM model;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(4, 1), comm, "cpu")) {
                model = new BertForMaskedLM(SIX_HEADS, 0);
            }
            try {
                ModelZoo.family("bert").rules().apply(model);
            } catch (RulesException e) {
                model.namedParameters().forEach((name, p) ->
                        assertThat(((ColoParameter) p).spec()).as("%s after the refusal", name).isEqualTo(DistSpec.replicate()));
                throw e;
            }
        })).hasStackTraceContaining("attention.self.query.weight").hasStackTraceContaining("[48, 48]")
                .hasStackTraceContaining("6 units of 8").hasStackTraceContaining("not divisible by 4");
    }
}

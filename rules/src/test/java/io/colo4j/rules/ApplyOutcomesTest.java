package io.colo4j.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Parameter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Nothing apply does is silent: its warnings are told (here with no SLF4J provider: on System.err), a second rule set is refused. */
class ApplyOutcomesTest {
    private static final String FC_ONLY = "{\"name\": \"fc\", \"match\": \"body.h.*.mlp.c_fc\", \"spec\": \"column\", \"outputReplicate\": false}";

    private static TestModels.Tiny lazyTiny(io.colo4j.tensor.comm.Communicator comm, int tp) {
        try (InitContext _ = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
            return TestModels.tiny();
        }
    }

    private static String stderrOf(Runnable r) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream previous = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(previous);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Non-strict: the parameters no rule matched are left replicated, and the user is told which, once for all ranks. */
    @Test
    void nonStrictApplyTellsWhatItLeftReplicated() {
        String err = stderrOf(() -> ThreadWorld.call(2, comm -> {
            TestModels.Tiny model = lazyTiny(comm, 2);
            ShardingPlan plan = PlanTest.rules(FC_ONLY, "replicate").apply(model);
            assertThat(plan.warnings()).isNotEmpty();
            return null;
        }));
        assertThat(err).contains("WARN io.colo4j.rules.ShardingRules - inline.json: ")
                .contains("(strict mode makes them errors)")
                .contains("body.wte.weight");
        assertThat(err.split("inline.json: ", -1)).as("told once, by the first rank").hasSize(2);
    }

    @Test
    void aSecondRuleSetOnAShardedModelIsRefusedNamingTheFirstAndTheParameter() {
        ThreadWorld.call(2, comm -> {
            TestModels.Tiny model = lazyTiny(comm, 2);
            PlanTest.tinyRules().apply(model);
            Supplier<ShardingRules> other = () -> ShardingRules.parse("{\"default\": \"replicate\", \"rules\": [" + FC_ONLY + "]}", "other.json");
            assertThatThrownBy(() -> other.get().apply(model)).isInstanceOf(RulesException.class)
                    .hasMessageContaining("cannot apply other.json: parameter body.wte.weight was already laid out by tiny.rules.json");
            // the same rules again (read twice) change nothing and are accepted
            PlanTest.tinyRules().apply(model);
            // a fresh model takes the other rules
            TestModels.Tiny fresh = lazyTiny(comm, 2);
            other.get().apply(fresh);
            for (Parameter p : fresh.parameters()) {
                if (p.name().contains("c_fc")) {
                    assertThat(((ColoParameter) p).spec()).isNotEqualTo(DistSpec.replicate());
                }
            }
            return null;
        });
    }
}

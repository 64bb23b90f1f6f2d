package io.colo4j.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.Assignment.Status;
import io.colo4j.rules.Problem.Kind;
import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Normalization;
import io.colo4j.tensor.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rules that divide the shapes but contradict the model's own structure are refused at every tp, naming the rule
 * (file:line:column), the parameter and why: column or vocab on a normalisation layer's 1-d parameters, and a stride
 * other than 1 or the declared number of fused blocks on a fused parameter.
 */
class StructureCheckTest {
    private static ShardingPlan plan(String rule, int tp) {
        return PlanTest.rules(rule, "replicate").plan(TestModels.tiny(), tp);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void aNormsParametersCannotBeSplitColumnOrVocab(int tp) {
        ShardingPlan column = plan("{\"name\": \"norms\", \"match\": \"**.ln_*\", \"spec\": \"column\"}", tp);
        assertThat(column.errors()).extracting(Problem::kind).containsOnly(Kind.INVALID_SPEC);
        assertThat(column.errors()).extracting(Problem::message).containsExactly(
                "rule 'norms' (inline.json:1:36) cannot apply column to body.h.0.ln_1.weight [8] at tp=" + tp + ": Norm is a"
                        + " normalisation layer: its 1-d parameters scale and shift whole features of an activation it normalises"
                        + " whole, so they cannot be split column; give them 'replicate' (the same for 9 more: body.h.0.ln_1.bias,"
                        + " body.h.0.ln_2.weight, body.h.0.ln_2.bias, ...)");
        assertThat(PlanTest.get(column, "body.ln_f.weight").status()).isEqualTo(Status.INVALID);
        assertThat(PlanTest.get(column, "body.ln_f.weight").spec()).isNull();

        ShardingPlan vocab = plan("{\"name\": \"ln_f\", \"match\": \"body.ln_f\", \"params\": {\"weight\": \"vocab\"}}", tp);
        assertThat(vocab.errors()).extracting(Problem::message).containsExactly(
                "rule 'ln_f' (inline.json:1:36) cannot apply vocab to body.ln_f.weight [8] at tp=" + tp + ": Norm is a"
                        + " normalisation layer: its 1-d parameters scale and shift whole features of an activation it normalises"
                        + " whole, so they cannot be split vocab; give them 'replicate'");
        // replicate stays what a norm gets
        assertThat(plan("{\"name\": \"norms\", \"match\": \"**.ln_*\", \"spec\": \"replicate\"}", tp).errors()).isEmpty();
    }

    /** A module that normalises but is not one of the zoo's: declaring {@link Normalization} is what counts. */
    static final class ScaleNorm extends Module implements Normalization {
        ScaleNorm(int d) {
            registerParameter("gain", new Parameter(Init.ones(), d));
        }
    }

    @Test
    void anyModuleDeclaringItselfANormIsProtected() {
        Module m = new Module() {
            {
                registerModule("norm", new ScaleNorm(8));
                registerModule("plain", new TestModels.Opaque(4, 8));
            }
        };
        ShardingPlan norm = PlanTest.rules("{\"name\": \"n\", \"match\": \"norm\", \"spec\": \"column\"}", "replicate").plan(m, 2);
        assertThat(norm.errors()).extracting(Problem::message).containsExactly("rule 'n' (inline.json:1:36) cannot apply column to"
                + " norm.gain [8] at tp=2: ScaleNorm is a normalisation layer: its 1-d parameters scale and shift whole features of an"
                + " activation it normalises whole, so they cannot be split column; give them 'replicate'");
        // a module that is no norm keeps its 1-d column split
        ShardingPlan plain = PlanTest.rules("{\"name\": \"p\", \"match\": \"plain\", \"params\": {\"bias\": \"column\", \"weight\": \"replicate\"}}",
                "replicate").plan(m, 2);
        assertThat(plain.errors()).isEmpty();
        assertThat(PlanTest.get(plain, "plain.bias").spec()).isEqualTo(DistSpec.shard(0, 2));
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2})
    void aFusedParameterNeedsItsOwnStrideOrNone(int tp) {
        ShardingPlan two = plan("{\"name\": \"qkv\", \"match\": \"body.h.*.attn.qkv\", \"spec\": \"column\", \"stride\": 2}", tp);
        assertThat(two.errors()).extracting(Problem::kind).containsOnly(Kind.INVALID_SPEC);
        assertThat(two.errors()).extracting(Problem::message).containsExactly(
                "rule 'qkv' (inline.json:1:36) cannot apply column(stride=2) to body.h.0.attn.qkv.weight [24, 8] at tp=" + tp
                        + ": the model declares dim 0 as 3 fused blocks (e.g. q | k | v), so a split of it needs stride 3 (each rank a"
                        + " part of every block) or 1 (the dim cut as one piece), not 2 (the same for 1 more: body.h.1.attn.qkv.weight)",
                "rule 'qkv' (inline.json:1:36) cannot apply column(stride=2) to body.h.0.attn.qkv.bias [24] at tp=" + tp
                        + ": the model declares dim 0 as 3 fused blocks (e.g. q | k | v), so a split of it needs stride 3 (each rank a"
                        + " part of every block) or 1 (the dim cut as one piece), not 2 (the same for 1 more: body.h.1.attn.qkv.bias)");
        // its own stride (Megatron) and none (the blocks cut as one, ColossalAI's tutorial) both apply
        for (String stride : new String[] {", \"stride\": 3", ", \"stride\": 1", ""}) {
            ShardingPlan ok = plan("{\"name\": \"qkv\", \"match\": \"body.h.*.attn.qkv\", \"spec\": \"column\"" + stride + "}", tp);
            assertThat(ok.errors()).as(stride).isEmpty();
        }
        // a parameter that declares no fused blocks is not checked: the stride only has to divide
        assertThat(plan("{\"name\": \"fc\", \"match\": \"body.h.*.mlp.c_fc\", \"spec\": \"column\", \"stride\": 2}", tp).errors()).isEmpty();
    }

    @Test
    void requireOkListsThem() {
        assertThatThrownBy(() -> PlanTest.rules("{\"name\": \"norms\", \"match\": \"**.ln_*\", \"spec\": \"column\"}", "replicate")
                .plan(TestModels.tiny(), 2).requireOk())
                .isInstanceOf(RulesException.class).hasMessageContaining("rule 'norms' (inline.json:1:36)")
                .hasMessageContaining("body.h.0.ln_1.weight").hasMessageContaining("normalisation layer");
    }

    @Test
    void fusedBlocksAreCheckedWhenDeclared() {
        Parameter p = new Parameter(Init.zeros(), 4, 6);
        assertThat(p.fusedBlocks(1)).isEqualTo(1);
        assertThat(p.fusedBlocks(1, 3).fusedBlocks(1)).isEqualTo(3);
        assertThat(p.fusedBlocks(-1)).isEqualTo(3);
        assertThat(p.fusedBlocks(0)).isEqualTo(1);
        assertThatThrownBy(() -> p.fusedBlocks(0, 0)).hasMessage("fused blocks must be >= 1, got 0");
    }
}

package io.colo4j.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.rules.Assignment.Status;
import io.colo4j.rules.Problem.Kind;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PlanTest {
    static final ComputeSpec KEEP_SHARDED = ComputeSpec.tp1d().withOutputReplicate(false);
    static final ComputeSpec REPLICATE_OUT = ComputeSpec.tp1d();

    static ShardingRules tinyRules() {
        return ShardingRules.parse(TestModels.TINY_RULES, "tiny.rules.json");
    }

    static ShardingRules rules(String rulesArray, String dflt) {
        return ShardingRules.parse("{\"default\": \"" + dflt + "\", \"rules\": [" + rulesArray + "]}", "inline.json");
    }

    static Assignment get(ShardingPlan plan, String parameter) {
        return plan.assignment(parameter).orElseThrow(() -> new AssertionError("no " + parameter));
    }

    // ---- role to dim, both layouts ---------------------------------------------------------------

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void rolesMapToTheLayoutsDims(int tp) {
        ShardingPlan plan = tinyRules().plan(TestModels.tiny(), tp);
        assertThat(plan.errors()).isEmpty();
        assertThat(plan.complete()).isTrue();
        // torch Linear [out, in]: column splits dim 0, row dim 1
        Assignment qkv = get(plan, "body.h.0.attn.qkv.weight");
        assertThat(qkv.layout()).isEqualTo(WeightLayout.OUT_IN);
        assertThat(qkv.shape()).containsExactly(24, 8);
        assertThat(qkv.spec()).isEqualTo(DistSpec.shard(0, tp, 3));
        assertThat(qkv.compute()).isEqualTo(KEEP_SHARDED);
        assertThat(qkv.localShape()).containsExactly(24 / tp, 8);
        assertThat(get(plan, "body.h.0.attn.qkv.bias").spec()).isEqualTo(DistSpec.shard(0, tp, 3));
        assertThat(get(plan, "body.h.0.attn.qkv.bias").compute()).isEqualTo(KEEP_SHARDED);
        Assignment out = get(plan, "body.h.1.attn.out.weight");
        assertThat(out.spec()).isEqualTo(DistSpec.shard(1, tp));
        assertThat(out.compute()).isEqualTo(REPLICATE_OUT);
        assertThat(out.entry().inputIsParallel()).isTrue();
        assertThat(get(plan, "body.h.1.attn.out.bias").spec()).isEqualTo(DistSpec.replicate());
        assertThat(get(plan, "body.h.1.attn.out.bias").compute()).isNull();
        // HF Conv1D [in, out]: column splits dim 1, row dim 0
        Assignment fc = get(plan, "body.h.0.mlp.c_fc.weight");
        assertThat(fc.layout()).isEqualTo(WeightLayout.IN_OUT);
        assertThat(fc.spec()).isEqualTo(DistSpec.shard(1, tp));
        assertThat(fc.localShape()).containsExactly(8, 32 / tp);
        assertThat(get(plan, "body.h.0.mlp.c_fc.bias").spec()).isEqualTo(DistSpec.shard(0, tp));
        assertThat(get(plan, "body.h.0.mlp.c_proj.weight").spec()).isEqualTo(DistSpec.shard(0, tp));
        assertThat(get(plan, "body.h.0.mlp.c_proj.weight").compute()).isEqualTo(REPLICATE_OUT);
        assertThat(get(plan, "body.h.0.mlp.c_proj.bias").spec()).isEqualTo(DistSpec.replicate());
        // vocab: dim 0, padded to a multiple of tp
        Assignment wte = get(plan, "body.wte.weight");
        assertThat(wte.spec()).isEqualTo(DistSpec.shard(0, tp));
        assertThat(wte.padToDivide()).isTrue();
        assertThat(wte.globalShape()).containsExactly(Math.ceilDiv(10, tp) * tp, 8);
        assertThat(wte.localShape()).containsExactly(Math.ceilDiv(10, tp), 8);
        assertThat(wte.compute()).isEqualTo(KEEP_SHARDED);
        for (String ln : List.of("body.h.0.ln_1.weight", "body.h.1.ln_2.bias", "body.ln_f.weight")) {
            assertThat(get(plan, ln).spec()).as(ln).isEqualTo(DistSpec.replicate());
            assertThat(get(plan, ln).rule().name()).isEqualTo("norms");
        }
    }

    @Test
    void theSameRuleFitsBothLayouts() {
        String json = "{\"match\": \"**.{qkv,c_fc}\", \"spec\": \"column\"}, {\"match\": \"**.{out,c_proj}\", \"spec\": \"row\"}";
        ShardingPlan plan = rules(json, "replicate").plan(TestModels.tiny(), 2);
        assertThat(get(plan, "body.h.0.attn.qkv.weight").spec()).isEqualTo(DistSpec.shard(0, 2)); // [out, in]
        assertThat(get(plan, "body.h.0.mlp.c_fc.weight").spec()).isEqualTo(DistSpec.shard(1, 2)); // [in, out]
        assertThat(get(plan, "body.h.0.attn.out.weight").spec()).isEqualTo(DistSpec.shard(1, 2));
        assertThat(get(plan, "body.h.0.mlp.c_proj.weight").spec()).isEqualTo(DistSpec.shard(0, 2));
    }

    @Test
    void roleMappingDirectly() {
        ParamRule column = ParamRule.of(Role.COLUMN).withStride(2);
        assertThat(RoleMapping.resolve(column, false, new int[] {12, 5}, WeightLayout.OUT_IN, 3).placed().spec())
                .isEqualTo(DistSpec.shard(0, 3, 2));
        assertThat(RoleMapping.resolve(column, false, new int[] {5, 12}, WeightLayout.IN_OUT, 3).placed().spec())
                .isEqualTo(DistSpec.shard(1, 3, 2));
        assertThat(RoleMapping.resolve(column, false, new int[] {12}, null, 3).placed().spec()).isEqualTo(DistSpec.shard(0, 3, 2));
        ParamRule row = ParamRule.of(Role.ROW);
        assertThat(RoleMapping.resolve(row, false, new int[] {12, 6}, WeightLayout.OUT_IN, 3).placed().spec()).isEqualTo(DistSpec.shard(1, 3));
        assertThat(RoleMapping.resolve(row, false, new int[] {6, 12}, WeightLayout.IN_OUT, 3).placed().spec()).isEqualTo(DistSpec.shard(0, 3));
        assertThat(RoleMapping.resolve(row, true, new int[] {12}, null, 3).placed().spec()).isEqualTo(DistSpec.replicate());
        assertThatThrownBy(() -> RoleMapping.resolve(row, false, new int[] {12}, null, 3))
                .hasMessageContaining("a row split needs a 2-d weight");
        assertThatThrownBy(() -> RoleMapping.resolve(column, false, new int[] {2, 3, 4}, WeightLayout.OUT_IN, 1))
                .hasMessageContaining("not a 3-d parameter");
        RoleMapping.Resolved vocab = RoleMapping.resolve(ParamRule.of(Role.VOCAB), false, new int[] {50257, 4}, null, 4);
        assertThat(vocab.placed().globalShape()).containsExactly(50260, 4);
        assertThat(vocab.placed().localShape()).containsExactly(12565, 4);
        assertThat(vocab.compute()).isEqualTo(REPLICATE_OUT);
    }

    // ---- problems ----------------------------------------------------------------------------------

    @Test
    void columnOrRowOnAModuleWithoutALayoutNamesTheRuleAndTheModule() {
        Module m = new Module() {
            {
                registerModule("proj", new TestModels.Opaque(4, 6));
            }
        };
        ShardingPlan plan = rules("{\"name\": \"p\", \"match\": \"proj\", \"spec\": \"column\"}", "error").plan(m, 2);
        assertThat(plan.ok()).isFalse();
        assertThat(plan.errors()).hasSize(1);
        Problem p = plan.errors().get(0);
        assertThat(p.kind()).isEqualTo(Kind.MISSING_LAYOUT);
        assertThat(p.message()).startsWith("rule 'p' (inline.json:1:32) gives column to module 'proj' (Opaque), which does not"
                + " declare its weight layout: Opaque must implement WeightLayout.Aware").contains("proj.weight [4, 6]");
        // the 1-d bias needs no layout
        assertThat(get(plan, "proj.bias").spec()).isEqualTo(DistSpec.shard(0, 2));
        assertThatThrownBy(() -> plan.requireOk()).isInstanceOf(RulesException.class)
                .hasMessageContaining("1 error").hasMessageContaining("rule 'p'").hasMessageContaining("module 'proj'");
        // vocab and replicate need none
        assertThat(rules("{\"match\": \"proj\", \"params\": {\"weight\": \"vocab\", \"bias\": \"replicate\"}}", "error")
                .plan(m, 2).ok()).isTrue();
    }

    @Test
    void twoRulesOnOneParameterIsAnErrorNamingBoth() {
        String json = """
                {"name": "all-proj", "match": "**.c_proj", "spec": "row"},
                {"name": "mlp-proj", "match": "body.h.*.mlp.c_proj", "params": {"weight": "row"}}
                """;
        ShardingPlan plan = rules(json, "replicate").plan(TestModels.tiny(), 2);
        assertThat(plan.conflicts()).hasSize(2); // the weight of both layers; the biases only match all-proj
        Problem c = plan.conflicts().get(0);
        assertThat(c.parameter()).isEqualTo("body.h.0.mlp.c_proj.weight");
        assertThat(c.rules()).extracting(Rule::name).containsExactly("all-proj", "mlp-proj");
        assertThat(c.message()).isEqualTo("parameter body.h.0.mlp.c_proj.weight [32, 8] is matched by 2 rules: rule 'all-proj'"
                + " (inline.json:1:36) and rule 'mlp-proj' (inline.json:2:1)");
        assertThat(c.error()).isTrue();
        assertThat(get(plan, "body.h.0.mlp.c_proj.weight").status()).isEqualTo(Status.CONFLICT);
        assertThat(get(plan, "body.h.0.mlp.c_proj.bias").status()).isEqualTo(Status.RULE);
    }

    @Test
    void unmatchedParametersUnderEachDefault() {
        String json = "{\"name\": \"fc\", \"match\": \"body.h.*.mlp.c_fc\", \"spec\": \"column\"}";
        ShardingPlan lenient = rules(json, "replicate").plan(TestModels.tiny(), 2);
        assertThat(lenient.ok()).isTrue();
        assertThat(lenient.complete()).isFalse();
        assertThat(lenient.unmatched()).extracting(Assignment::parameter).contains("body.wte.weight", "body.h.0.attn.qkv.weight")
                .doesNotContain("body.h.0.mlp.c_fc.weight");
        assertThat(get(lenient, "body.wte.weight").status()).isEqualTo(Status.DEFAULT);
        assertThat(get(lenient, "body.wte.weight").spec()).isEqualTo(DistSpec.replicate());
        assertThat(lenient.warnings()).anySatisfy(p -> assertThat(p.message())
                .isEqualTo("parameter body.wte.weight [10, 8] is matched by no rule (replicated by \"default\": \"replicate\")"));
        assertThat(lenient.coveredCount()).isEqualTo(4);

        ShardingPlan strict = rules(json, "replicate").strict(true).plan(TestModels.tiny(), 2);
        assertThat(strict.ok()).isFalse();
        assertThat(strict.errors()).extracting(Problem::kind).containsOnly(Kind.UNMATCHED);

        ShardingPlan erroring = rules(json, "error").plan(TestModels.tiny(), 2);
        assertThat(erroring.ok()).isFalse();
        assertThat(get(erroring, "body.wte.weight").status()).isEqualTo(Status.UNMATCHED);
        assertThat(get(erroring, "body.wte.weight").spec()).isNull();
        assertThat(erroring.errors()).anySatisfy(p -> assertThat(p.message())
                .isEqualTo("parameter body.wte.weight [10, 8] is matched by no rule and the rules say \"default\": \"error\""));
    }

    @Test
    void deadRulesAndEntriesAreWarningsOrStrictErrors() {
        String json = """
                {"name": "typo", "match": "body.h.*.mlp.cfc", "spec": "column"},
                {"name": "substring", "match": "c_proj", "spec": "row"},
                {"name": "no-bias", "match": "body.wte", "params": {"weight": "vocab", "bias": "replicate"}},
                {"name": "rest", "match": "**", "params": {"*": "replicate", "weight": "replicate"}}
                """;
        ShardingRules r = rules(json, "replicate");
        ShardingPlan plan = r.plan(TestModels.tiny(), 2);
        assertThat(plan.deadRules()).extracting(Rule::name).containsExactly("typo", "substring");
        assertThat(plan.problems(Kind.DEAD_RULE)).extracting(Problem::message).containsExactly(
                "rule 'typo' (inline.json:1:36) matches no parameter (no module path matches 'body.h.*.mlp.cfc')",
                "rule 'substring' (inline.json:2:1) matches no parameter (no module path matches 'c_proj')");
        assertThat(plan.problems(Kind.DEAD_ENTRY)).extracting(Problem::message).containsExactly(
                "rule 'no-bias' (inline.json:3:1): its entry 'bias' applies to no parameter of the 1 module(s) it matches");
        assertThat(plan.problems(Kind.DEAD_RULE)).allMatch(p -> !p.error());
        // "rest" covers every other module, so wte.weight is matched twice
        assertThat(plan.conflicts()).extracting(Problem::parameter).containsExactly("body.wte.weight");
        ShardingPlan strict = r.strict(true).plan(TestModels.tiny(), 2);
        assertThat(strict.errors()).extracting(Problem::kind).contains(Kind.DEAD_RULE, Kind.DEAD_ENTRY, Kind.CONFLICT);
    }

    @Test
    void aRuleForTheSecondPathOfATiedParameterSaysSo() {
        TestModels.Embedding shared = new TestModels.Embedding(10, 8, 1);
        Module m = new Module() {
            {
                registerModule("wte", shared);
                registerModule("lm_head", shared);
            }
        };
        ShardingPlan plan = rules("{\"name\": \"head\", \"match\": \"lm_head\", \"spec\": \"vocab\"}", "replicate").plan(m, 2);
        assertThat(plan.deadRules()).extracting(Rule::name).containsExactly("head");
        assertThat(plan.problems(Kind.DEAD_RULE).get(0).message()).isEqualTo("rule 'head' (inline.json:1:36) matches no"
                + " parameter (lm_head.weight is the parameter wte.weight (tied); shared parameters are planned once, under"
                + " their first path: write the rule for that one)");
    }

    @Test
    void specsThatCannotApplyNameTheRuleTheParameterItsShapeAndTheDegree() {
        // 8 input features of qkv / 3 ranks
        ShardingPlan rows = rules("{\"name\": \"q\", \"match\": \"body.h.0.attn.qkv\", \"params\": {\"weight\": \"row\"}}", "replicate")
                .plan(TestModels.tiny(), 3);
        assertThat(rows.errors()).extracting(Problem::message).containsExactly(
                "rule 'q' (inline.json:1:36) cannot apply row to body.h.0.attn.qkv.weight [24, 8] at tp=3: row splits dim 1 (8)"
                        + " into 3 parts, but it is not divisible by 3");
        // stride 3 x tp 4 = 12 does not divide fc's 32 outputs
        ShardingPlan strided = rules("{\"name\": \"fc\", \"match\": \"body.h.0.mlp.c_fc\", \"spec\": \"column\", \"stride\": 3}", "replicate")
                .plan(TestModels.tiny(), 4);
        assertThat(strided.errors()).extracting(Problem::message).containsExactly(
                "rule 'fc' (inline.json:1:36) cannot apply column(stride=3) to body.h.0.mlp.c_fc.weight [8, 32] at tp=4: column"
                        + " splits dim 1 (32) as 3 blocks of 4 parts, but it is not divisible by stride x tp = 12",
                "rule 'fc' (inline.json:1:36) cannot apply column(stride=3) to body.h.0.mlp.c_fc.bias [32] at tp=4: column"
                        + " splits dim 0 (32) as 3 blocks of 4 parts, but it is not divisible by stride x tp = 12");
        assertThat(get(strided, "body.h.0.mlp.c_fc.weight").status()).isEqualTo(Status.INVALID);
        // a row split named on a 1-d bias
        ShardingPlan bias = rules("{\"name\": \"b\", \"match\": \"body.h.0.mlp.c_proj\", \"params\": {\"weight\": \"row\", \"bias\": \"row\"}}",
                "replicate").plan(TestModels.tiny(), 2);
        assertThat(bias.errors()).extracting(Problem::message).containsExactly(
                "rule 'b' (inline.json:1:36) cannot apply row to body.h.0.mlp.c_proj.bias [8] at tp=2: a row split needs a 2-d"
                        + " weight; a 1-d parameter has no input dim (give it 'replicate', or reach it through '*' to replicate"
                        + " the bias of a row layer)");
        assertThat(bias.errors()).allMatch(p -> p.kind() == Kind.INVALID_SPEC);
    }

    @Test
    void bytesPerRank() {
        int tp = 4;
        ShardingPlan plan = tinyRules().plan(TestModels.tiny(), tp);
        long serialSharded = 0;
        long serialReplicated = 0;
        for (Map.Entry<String, Parameter> e : TestModels.tiny().namedParameters().entrySet()) {
            String n = e.getKey();
            boolean sharded = n.contains("qkv") || n.contains("c_fc") || n.endsWith("out.weight") || n.endsWith("c_proj.weight")
                    || n.contains("wte");
            if (sharded) {
                serialSharded += e.getValue().numel() * 4;
            } else {
                serialReplicated += e.getValue().numel() * 4;
            }
        }
        long padding = (12 - 10) * 8 * 4;
        assertThat(plan.shardedBytesPerRank()).isEqualTo((serialSharded + padding) / tp);
        assertThat(plan.replicatedBytesPerRank()).isEqualTo(serialReplicated);
        assertThat(plan.serialBytes()).isEqualTo(serialSharded + serialReplicated);
    }

    @Test
    void planningTouchesNothing() {
        ThreadWorld.call(1, comm -> {
            TestModels.Tiny model;
            try (InitContext _ = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                model = TestModels.tiny();
            }
            ShardingPlan plan = tinyRules().plan(model, 4);
            assertThat(plan.complete()).isTrue();
            for (Parameter p : model.parameters()) {
                ColoParameter c = (ColoParameter) p;
                assertThat(c.isMaterialized()).as(c.name()).isFalse();
                assertThat(c.spec()).isEqualTo(DistSpec.replicate());
                assertThat(c.computeSpec()).isNull();
            }
            return null;
        });
    }

    @Test
    void reportRendersAsTableAndJson() {
        ShardingPlan plan = rules("{\"name\": \"fc\", \"match\": \"body.h.*.mlp.c_fc\", \"spec\": \"column\", \"outputReplicate\": false},"
                + "{\"name\": \"dead\", \"match\": \"nothing\", \"spec\": \"row\"}", "replicate").plan(TestModels.tiny(), 2);
        String table = plan.table();
        assertThat(table).contains("body.h.0.mlp.c_fc.weight").contains("shard(dim 1, 2 parts)").contains("out=sharded")
                .contains("(default)").contains("warning: rule 'dead'").contains("coverage: INCOMPLETE");
        var json = plan.toJson();
        assertThat(json.get("tp").asInt()).isEqualTo(2);
        assertThat(json.get("complete").asBoolean()).isFalse();
        assertThat(json.get("deadRules").get(0).asText()).isEqualTo("dead");
        com.fasterxml.jackson.databind.JsonNode fc = null;
        for (var p : json.get("parameters")) {
            if (p.get("name").asText().equals("body.h.0.mlp.c_fc.weight")) {
                fc = p;
            }
        }
        assertThat(fc).isNotNull();
        assertThat(fc.get("name").asText()).isEqualTo("body.h.0.mlp.c_fc.weight");
        assertThat(fc.get("spec").toString()).isEqualTo("{\"type\":\"shard\",\"dims\":[1],\"numPartitions\":[2],\"strides\":[1]}");
        assertThat(fc.get("compute").toString()).isEqualTo("{\"pattern\":\"tp1d\",\"outputReplicate\":false}");
        assertThat(fc.get("localShape").toString()).isEqualTo("[8,16]");
        assertThat(json.get("unmatched").size()).isEqualTo(plan.unmatched().size());
    }

    // ---- apply -------------------------------------------------------------------------------------

    @Test
    void applySetsEverySpecOnEachRank() {
        int tp = 4;
        List<Map<String, int[]>> localShapes = ThreadWorld.call(tp, comm -> {
            TestModels.Tiny model;
            try (InitContext _ = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                model = TestModels.tiny();
            }
            ShardingPlan plan = tinyRules().apply(model);
            assertThat(plan.tp()).isEqualTo(tp);
            Map<String, int[]> shapes = new java.util.LinkedHashMap<>();
            model.namedParameters().forEach((name, p) -> {
                ColoParameter c = (ColoParameter) p;
                Assignment a = plan.assignment(name).orElseThrow();
                assertThat(c.spec()).as(name).isEqualTo(a.spec());
                assertThat(c.computeSpec()).as(name).isEqualTo(a.compute());
                shapes.put(name, c.localShape());
            });
            return shapes;
        });
        Map<String, int[]> rank0 = localShapes.get(0);
        assertThat(rank0.get("body.wte.weight")).containsExactly(3, 8);
        assertThat(rank0.get("body.h.0.attn.qkv.weight")).containsExactly(6, 8);
        assertThat(rank0.get("body.h.0.attn.out.weight")).containsExactly(8, 2);
        assertThat(rank0.get("body.h.0.mlp.c_fc.weight")).containsExactly(8, 8);
        assertThat(rank0.get("body.h.0.mlp.c_proj.weight")).containsExactly(8, 8);
        assertThat(rank0.get("body.h.0.mlp.c_proj.bias")).containsExactly(8);
    }

    @Test
    void applyRefusesPlainParametersAndPlansWithErrors() {
        assertThatThrownBy(() -> tinyRules().apply(TestModels.tiny())).isInstanceOf(RulesException.class)
                .hasMessageContaining("parameter body.wte.weight is a plain Parameter, not a ColoParameter");
        ThreadWorld.call(2, comm -> {
            TestModels.Tiny model;
            try (InitContext _ = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                model = TestModels.tiny();
            }
            ShardingRules partial = rules("{\"name\": \"fc\", \"match\": \"body.h.*.mlp.c_fc\", \"spec\": \"column\"}", "error");
            assertThatThrownBy(() -> partial.apply(model)).isInstanceOf(RulesException.class)
                    .hasMessageStartingWith("rules inline.json at tp=2: 23 errors")
                    .hasMessageContaining("body.wte.weight [10, 8] is matched by no rule");
            // nothing was changed
            for (Parameter p : model.parameters()) {
                assertThat(((ColoParameter) p).spec()).isEqualTo(DistSpec.replicate());
            }
            return null;
        });
    }
}

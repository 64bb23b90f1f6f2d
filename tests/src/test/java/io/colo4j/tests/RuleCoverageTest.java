package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.rules.Assignment;
import io.colo4j.rules.Problem;
import io.colo4j.rules.Rule;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every zoo model's shipped rules, driven by {@link ModelZoo}: every parameter covered by exactly one
 * rule, no dead rule or entry, the expected spec per class of parameter, at tp = 2 and 4. A family added
 * to the zoo joins automatically, and fails here until {@link #EXPECTED} says what its parameters get.
 */
class RuleCoverageTest {
    static final ComputeSpec KEEP_SHARDED = ComputeSpec.tp1d().withOutputReplicate(false);
    static final ComputeSpec GATHER = ComputeSpec.tp1d();

    /** What one class of parameters (by full-path regex) should get at a tp. */
    record Expected(DistSpec spec, ComputeSpec compute, boolean padToDivide) {}

    record ParameterClass(String regex, IntFunction<Expected> expected) {
        boolean matches(String parameter) {
            return Pattern.compile(regex).matcher(parameter).matches();
        }
    }

    /** GPT-2, Megatron's layout: exactly what ops' GptStackEquivalenceTest sets by hand (vocab embeddings). */
    static final List<ParameterClass> GPT2 = List.of(
            new ParameterClass("transformer\\.h\\.\\d+\\.attn\\.c_attn\\.weight", tp -> new Expected(DistSpec.shard(1, tp, 3), KEEP_SHARDED, false)),
            new ParameterClass("transformer\\.h\\.\\d+\\.attn\\.c_attn\\.bias", tp -> new Expected(DistSpec.shard(0, tp, 3), KEEP_SHARDED, false)),
            new ParameterClass("transformer\\.h\\.\\d+\\.mlp\\.c_fc\\.weight", tp -> new Expected(DistSpec.shard(1, tp), KEEP_SHARDED, false)),
            new ParameterClass("transformer\\.h\\.\\d+\\.mlp\\.c_fc\\.bias", tp -> new Expected(DistSpec.shard(0, tp), KEEP_SHARDED, false)),
            new ParameterClass("transformer\\.h\\.\\d+\\.(attn|mlp)\\.c_proj\\.weight", tp -> new Expected(DistSpec.shard(0, tp), GATHER, false)),
            new ParameterClass("transformer\\.h\\.\\d+\\.(attn|mlp)\\.c_proj\\.bias", tp -> new Expected(DistSpec.replicate(), null, false)),
            new ParameterClass("transformer\\.wte\\.weight", tp -> new Expected(DistSpec.shard(0, tp), KEEP_SHARDED, true)),
            new ParameterClass("transformer\\.wpe\\.weight", tp -> new Expected(DistSpec.replicate(), null, false)),
            new ParameterClass("transformer\\.(h\\.\\d+\\.ln_[12]|ln_f)\\.(weight|bias)", tp -> new Expected(DistSpec.replicate(), null, false)));

    /** Per zoo family. */
    static final Map<String, List<ParameterClass>> EXPECTED = Map.of("gpt2", GPT2,
            "opt", OptRulesEquivalenceTest.EXPECTED_SPECS, "llama", LlamaRulesEquivalenceTest.EXPECTED_SPECS,
            "bert", BertRulesEquivalenceTest.EXPECTED_SPECS, "t5", T5RulesEquivalenceTest.EXPECTED_SPECS);

    /** The serial model with lazy parameters (nothing allocated), as {@code colo4j coverage} builds it. */
    static Module lazily(ModelZoo.Family family, String config) {
        return ThreadWorld.call(1, comm -> {
            try (InitContext _ = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return family.build(config, 7L);
            }
        }).get(0);
    }

    /**
     * Fails unless every parameter of the family's smallest config, built inside an InitContext, is a
     * lazy ColoParameter: checked before building a large config, which would otherwise be allocated
     * whole (GPT-2 xl: 6 GB) and could not be sharded by the rules anyway.
     */
    static void assertBuildsLazily(ModelZoo.Family family) {
        String config = family.configs().get(0);
        lazily(family, config).namedParameters().forEach((name, p) -> {
            assertThat(p).as("%s %s: parameter %s (%s) built inside an InitContext must be adopted as a lazy ColoParameter:"
                            + " register a plain io.colo4j.tensor.nn.Parameter (new Parameter(init, shape)) inside an InitContext",
                    family.name(), config, name, p.getClass().getName()).isInstanceOf(ColoParameter.class);
            assertThat(p.isMaterialized()).as("%s %s: %s is allocated by building the model", family.name(), config, name).isFalse();
        });
    }

    static Stream<Arguments> familiesAndDegrees() {
        List<Arguments> out = new ArrayList<>();
        for (ModelZoo.Family f : ModelZoo.families()) {
            for (int tp : new int[] {2, 4}) {
                out.add(Arguments.of(f.name(), tp));
            }
        }
        return out.stream();
    }

    static void assertComplete(ShardingPlan plan) {
        assertThat(plan.errors()).as("errors").extracting(Problem::message).isEmpty();
        assertThat(plan.warnings()).as("warnings").extracting(Problem::message).isEmpty();
        assertThat(plan.unmatched()).as("unmatched").isEmpty();
        assertThat(plan.conflicts()).as("conflicts").isEmpty();
        assertThat(plan.deadRules()).as("dead rules").isEmpty();
        assertThat(plan.coveredCount()).isEqualTo(plan.parameterCount());
        assertThat(plan.complete()).isTrue();
    }

    static void assertExpectedSpecs(ShardingPlan plan, List<ParameterClass> classes, int tp) {
        for (Assignment a : plan.assignments()) {
            List<ParameterClass> hits = classes.stream().filter(c -> c.matches(a.parameter())).toList();
            assertThat(hits).as("parameter classes of %s", a.parameter()).hasSize(1);
            Expected e = hits.get(0).expected().apply(tp);
            assertThat(a.spec()).as("spec of %s", a.parameter()).isEqualTo(e.spec());
            assertThat(a.compute()).as("compute of %s", a.parameter()).isEqualTo(e.compute());
            assertThat(a.padToDivide()).as("padding of %s", a.parameter()).isEqualTo(e.padToDivide());
        }
        // every class is used, so a renamed parameter cannot slip through unchecked
        for (ParameterClass c : classes) {
            assertThat(plan.assignments()).as("parameters of class %s", c.regex()).anyMatch(a -> c.matches(a.parameter()));
        }
    }

    @ParameterizedTest(name = "{0} tp={1}")
    @MethodSource("familiesAndDegrees")
    void everyParameterIsCoveredByExactlyOneRuleWithTheExpectedSpec(String name, int tp) {
        ModelZoo.Family family = ModelZoo.family(name);
        assertBuildsLazily(family);
        ShardingPlan plan = family.rules().strict(true).plan(lazily(family, family.defaultConfig()), tp);
        assertComplete(plan);
        assertThat(EXPECTED).as("expected specs for zoo family %s: add its parameter classes to RuleCoverageTest.EXPECTED", name)
                .containsKey(name);
        assertExpectedSpecs(plan, EXPECTED.get(name), tp);
    }

    @ParameterizedTest(name = "{0} tp={1}")
    @MethodSource("familiesAndDegrees")
    void everyConfigOfEveryFamilyPlansCleanlyOrRefusesItsHeadCount(String name, int tp) {
        ModelZoo.Family family = ModelZoo.family(name);
        assertBuildsLazily(family);
        ShardingRules rules = family.rules().strict(true);
        for (String config : family.configs()) {
            ShardingPlan plan = rules.plan(lazily(family, config), tp);
            List<String> errors = plan.errors().stream().map(Problem::message).toList();
            if (!errors.isEmpty()) {
                // the one legitimate refusal: a head count that tp does not divide (GPT-2 xl: 25 heads)
                assertThat(errors).as("%s %s at tp=%d", name, config, tp)
                        .allMatch(m -> m.contains("units of") && m.contains("not divisible by " + tp));
                continue;
            }
            assertThat(plan.complete()).as("%s %s at tp=%d", name, config, tp).isTrue();
            assertThat(plan.shardedBytesPerRank()).as("%s %s: most bytes are sharded", name, config)
                    .isGreaterThan(plan.replicatedBytesPerRank());
        }
    }

    @Test
    void theZooGpt2DeclaresItsWeightLayouts() {
        Module m = lazily(ModelZoo.family("gpt2"), "tiny");
        Map<String, Module> modules = m.namedModules();
        for (String path : List.of("transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.1.mlp.c_fc",
                "transformer.h.1.mlp.c_proj", "transformer.wte", "transformer.wpe")) {
            Module module = modules.get(path);
            assertThat(module).as("%s (%s) must implement WeightLayout.Aware: Conv1D weights are [in, out] (IN_OUT),"
                            + " embedding tables [vocab, dim] (IN_OUT)", path, module.getClass().getName())
                    .isInstanceOf(io.colo4j.tensor.nn.WeightLayout.Aware.class);
            assertThat(((io.colo4j.tensor.nn.WeightLayout.Aware) module).weightLayout()).as(path)
                    .isEqualTo(io.colo4j.tensor.nn.WeightLayout.IN_OUT);
        }
    }

    @ParameterizedTest(name = "tp={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {2, 4})
    void theGpt2RulesGiveALayoutAwareStandInMegatronsLayout(int tp) {
        ShardingPlan plan = ModelZoo.family("gpt2").rules().strict(true).plan(new LayoutAwareGpt2(37, 8, 16, 2, 4), tp);
        assertComplete(plan);
        assertExpectedSpecs(plan, GPT2, tp);
        Assignment wte = plan.assignment("transformer.wte.weight").orElseThrow();
        assertThat(wte.globalShape()).containsExactly(Math.ceilDiv(37, tp) * tp, 16);
    }

    /** The shipped file with the LayerNorm rule dropped and a misspelt rule added. */
    static String incompleteGpt2Rules() throws Exception {
        String shipped;
        try (var in = RuleCoverageTest.class.getResourceAsStream("/io/colo4j/zoo/gpt2/gpt2.rules.json")) {
            shipped = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(shipped);
        var rules = (com.fasterxml.jackson.databind.node.ArrayNode) root.get("rules");
        for (int i = rules.size() - 1; i >= 0; i--) {
            if (rules.get(i).get("name").asText().equals("layernorms")) {
                rules.remove(i);
            }
        }
        rules.addObject().put("name", "mlp.fc-typo").put("match", "transformer.h.*.mlp.cfc").put("spec", "column");
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    @Test
    void aDeliberatelyIncompleteRulesFileIsReported(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gpt2-incomplete.rules.json");
        Files.writeString(file, incompleteGpt2Rules());
        ShardingRules rules = ShardingRules.fromJson(file);
        ShardingPlan plan = rules.plan(new LayoutAwareGpt2(37, 8, 16, 2, 4), 2);
        assertThat(plan.complete()).isFalse();
        assertThat(plan.ok()).isFalse(); // "default": "error"
        assertThat(plan.unmatched()).extracting(Assignment::parameter).containsExactly(
                "transformer.h.0.ln_1.weight", "transformer.h.0.ln_1.bias", "transformer.h.0.ln_2.weight", "transformer.h.0.ln_2.bias",
                "transformer.h.1.ln_1.weight", "transformer.h.1.ln_1.bias", "transformer.h.1.ln_2.weight", "transformer.h.1.ln_2.bias",
                "transformer.ln_f.weight", "transformer.ln_f.bias");
        assertThat(plan.deadRules()).extracting(Rule::name).containsExactly("mlp.fc-typo");
        assertThat(plan.errors()).extracting(Problem::message)
                .contains("parameter transformer.ln_f.bias [16] is matched by no rule and the rules say \"default\": \"error\"");
        assertThat(plan.warnings()).extracting(Problem::message).singleElement().asString()
                .startsWith("rule 'mlp.fc-typo' (" + file + ":").endsWith("matches no parameter (no module path matches 'transformer.h.*.mlp.cfc')");
        assertThat(rules.strict(true).plan(new LayoutAwareGpt2(37, 8, 16, 2, 4), 2).errors())
                .anyMatch(p -> p.kind() == Problem.Kind.DEAD_RULE);
        String table = plan.table();
        assertThat(table).contains("(none)").contains("coverage: INCOMPLETE (10 errors)");
    }
}

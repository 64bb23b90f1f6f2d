package io.colo4j.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a rules file can be wrong is reported with the file, line and column. */
class RulesReaderTest {
    static final String SRC = "test.rules.json";

    /** {@code SRC:line:column} of the {@code nth} occurrence (1-based) of {@code marker} in {@code json}. */
    static String at(String json, String marker, int nth, int plusColumns) {
        int index = -1;
        for (int i = 0; i < nth; i++) {
            index = json.indexOf(marker, index + 1);
            assertThat(index).as("marker %s", marker).isGreaterThanOrEqualTo(0);
        }
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < index; i++) {
            if (json.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return SRC + ":" + line + ":" + (index - lineStart + 1 + plusColumns) + ": ";
    }

    static String at(String json, String marker) {
        return at(json, marker, 1, 0);
    }

    static RulesException fails(String json) {
        try {
            ShardingRules.parse(json, SRC);
        } catch (RulesException e) {
            return e;
        }
        throw new AssertionError("expected a RulesException for\n" + json);
    }

    static String oneRule(String rule) {
        return """
                {
                  "default": "error",
                  "rules": [
                    %s
                  ]
                }
                """.formatted(rule);
    }

    @Test
    void readsAWellFormedFile() {
        ShardingRules rules = ShardingRules.parse(TestModels.TINY_RULES, SRC);
        assertThat(rules.source()).isEqualTo(SRC);
        assertThat(rules.model()).contains("tiny");
        assertThat(rules.defaultAction()).isEqualTo(DefaultAction.ERROR);
        assertThat(rules.rules()).extracting(Rule::name).containsExactly("qkv", "attn-out", "fc", "proj", "wte", "norms");
        Rule qkv = rules.rules().get(0);
        assertThat(qkv.params()).containsOnlyKeys("*");
        assertThat(qkv.params().get("*")).isEqualTo(new ParamRule(Role.COLUMN, 3, false, null, qkv.params().get("*").location()));
        assertThat(qkv.location().toString()).isEqualTo(at(TestModels.TINY_RULES, "{\"name\": \"qkv\"").replace(": ", ""));
        Rule wte = rules.rules().get(4);
        assertThat(wte.params()).containsOnlyKeys("weight");
        assertThat(wte.params().get("weight").role()).isEqualTo(Role.VOCAB);
        assertThat(wte.params().get("weight").outputReplicate()).isFalse();
        assertThat(rules.rules().get(1).params().get("*").inputIsParallel()).isTrue();
    }

    @Test
    void unnamedRulesAreNamedByTheirPattern() {
        ShardingRules rules = ShardingRules.parse(oneRule("{\"regex\": \"a\\\\.b\", \"params\": {\"weight\": \"row\", \"bias\": \"replicate\"}}"), SRC);
        Rule r = rules.rules().get(0);
        assertThat(r.name()).isEqualTo("a\\.b");
        assertThat(r.pattern()).isInstanceOf(ModulePattern.Regex.class);
        assertThat(r.params()).containsOnlyKeys("weight", "bias");
    }

    @Test
    void malformedJson() {
        String json = """
                {
                  "default": "error"
                  "rules": []
                }
                """;
        RulesException e = fails(json);
        assertThat(e.getMessage()).startsWith(SRC + ":3:").contains("malformed JSON").contains("comma");
        assertThat(e.location().line()).isEqualTo(3);
        assertThat(e.location().column()).isBetween(3, 4);
    }

    @Test
    void malformedJsonInsideARule() {
        String json = oneRule("{\"match\": \"a\", \"spec\": column}");
        RulesException e = fails(json);
        assertThat(e.getMessage()).startsWith(SRC + ":4:").contains("malformed JSON").contains("column");
    }

    @Test
    void emptyFileAndTrailingContent() {
        assertThat(fails("  ").getMessage()).isEqualTo(SRC + ":1:1: malformed JSON: the file is empty");
        String json = "{\"default\": \"error\", \"rules\": []}\n{}";
        assertThat(fails(json).getMessage()).startsWith(SRC + ":2:1: malformed JSON: unexpected content after");
    }

    @Test
    void duplicateKeys() {
        String json = oneRule("{\"match\": \"a\", \"spec\": \"row\", \"spec\": \"column\"}");
        assertThat(fails(json).getMessage())
                .startsWith(at(json, "\"spec\"", 2, 0))
                .contains("duplicate key 'spec' (first at " + at(json, "\"spec\"").replace(": ", "") + ")");
    }

    @Test
    void unknownTopLevelKey() {
        String json = """
                {
                  "default": "error",
                  "rulez": []
                }
                """;
        assertThat(fails(json).getMessage()).startsWith(SRC + ":3:3: the rules file: unknown key 'rulez'")
                .contains("(did you mean 'rules'?)");
    }

    @Test
    void unknownRuleKey() {
        String json = oneRule("{\"match\": \"a.b\", \"spec\": \"column\", \"strid\": 3}");
        assertThat(fails(json).getMessage()).startsWith(at(json, "\"strid\"") + "rules[0]: unknown key 'strid'")
                .contains("(did you mean 'stride'?)");
    }

    @Test
    void unknownKeyNamesTheRuleByName() {
        String json = oneRule("{\"name\": \"fc\", \"match\": \"a.b\", \"spec\": \"column\", \"colour\": 3}");
        assertThat(fails(json).getMessage()).startsWith(at(json, "\"colour\"") + "rules[0] ('fc'): unknown key 'colour'");
    }

    @Test
    void unknownKeyInAParamsEntry() {
        String json = oneRule("{\"match\": \"a\", \"params\": {\"weight\": {\"spec\": \"row\", \"inputIsParalel\": true}}}");
        assertThat(fails(json).getMessage()).startsWith(at(json, "\"inputIsParalel\"")
                + "rules[0].params.weight: unknown key 'inputIsParalel'").contains("did you mean 'inputIsParallel'");
    }

    @Test
    void unknownParameterKey() {
        String json = oneRule("{\"match\": \"a\", \"params\": {\"weights\": \"row\"}}");
        assertThat(fails(json).getMessage()).startsWith(at(json, "\"weights\"")
                + "rules[0].params: unknown parameter key 'weights'; expected 'weight', 'bias' or '*' (did you mean 'weight'?)");
    }

    @Test
    void unknownSpecName() {
        String json = oneRule("{\"match\": \"a\", \"spec\": \"colum\"}");
        assertThat(fails(json).getMessage()).isEqualTo(at(json, "\"colum\"") + "rules[0]: unknown spec 'colum'; expected one of"
                + " 'column', 'row', 'vocab', 'replicate' (did you mean 'column'?)");
        String inParams = oneRule("{\"match\": \"a\", \"params\": {\"bias\": \"shard\"}}");
        assertThat(fails(inParams).getMessage()).startsWith(at(inParams, "\"shard\"") + "rules[0].params.bias: unknown spec 'shard'");
        String inEntry = oneRule("{\"match\": \"a\", \"params\": {\"bias\": {\"spec\": \"Row\"}}}");
        assertThat(fails(inEntry).getMessage()).startsWith(at(inEntry, "\"Row\"") + "rules[0].params.bias: unknown spec 'Row'");
    }

    @Test
    void badGlobPointsAtTheCharacter() {
        String json = oneRule("{\"match\": \"transformer..h\", \"spec\": \"row\"}");
        // the opening quote, then 12 characters into the pattern
        assertThat(fails(json).getMessage()).isEqualTo(at(json, "\"transformer..h\"", 1, 1 + 12)
                + "rules[0]: bad glob 'transformer..h': empty segment at character 12 (segments are separated by single dots)");
        String stars = oneRule("{\"match\": \"a.b**\", \"spec\": \"row\"}");
        assertThat(fails(stars).getMessage()).startsWith(at(stars, "\"a.b**\"", 1, 1 + 3) + "rules[0]: bad glob 'a.b**'");
    }

    @Test
    void badRegex() {
        String json = oneRule("{\"regex\": \"h\\\\.(0|1\", \"spec\": \"row\"}");
        assertThat(fails(json).getMessage()).startsWith(at(json, "\"h\\\\.(0|1\"", 1, 1 + 7) + "rules[0]: bad regex 'h\\.(0|1'")
                .contains("Unclosed group");
    }

    @Test
    void missingOrUnknownDefault() {
        String json = """
                {
                  "rules": []
                }
                """;
        assertThat(fails(json).getMessage()).isEqualTo(SRC + ":1:1: the rules file: missing required key 'default'"
                + " ('replicate' or 'error')");
        String unknown = "{\"default\": \"ignore\", \"rules\": []}";
        assertThat(fails(unknown).getMessage()).isEqualTo(SRC + ":1:13: unknown default 'ignore'; expected 'replicate' or 'error'");
        assertThat(fails("{\"default\": \"error\"}").getMessage()).startsWith(SRC + ":1:1: the rules file: missing required key 'rules'");
        assertThat(fails("{\"default\": \"error\", \"rules\": {}}").getMessage())
                .isEqualTo(SRC + ":1:31: 'rules' must be an array, got an object");
        assertThat(fails("[]").getMessage()).isEqualTo(SRC + ":1:1: the rules file must be an object, got an array");
    }

    @Test
    void strideErrors() {
        String onRow = oneRule("{\"match\": \"a\", \"spec\": \"row\", \"stride\": 3}");
        assertThat(fails(onRow).getMessage()).isEqualTo(at(onRow, "\"stride\"") + "rules[0]: 'stride' applies only to column, not row");
        String zero = oneRule("{\"match\": \"a\", \"spec\": \"column\", \"stride\": 0}");
        assertThat(fails(zero).getMessage()).isEqualTo(at(zero, "0}") + "rules[0]: 'stride' must be an integer >= 1"
                + " (fused qkv = 3, fused kv = 2), got 0");
        String text = oneRule("{\"match\": \"a\", \"spec\": \"column\", \"stride\": \"3\"}");
        assertThat(fails(text).getMessage()).startsWith(at(text, "\"3\"")).endsWith("got the string \"3\"");
        String fraction = oneRule("{\"match\": \"a\", \"params\": {\"weight\": {\"spec\": \"column\", \"stride\": 1.5}}}");
        assertThat(fails(fraction).getMessage()).startsWith(at(fraction, "1.5") + "rules[0].params.weight: 'stride'").endsWith("got 1.5");
    }

    @Test
    void hintErrors() {
        String flag = oneRule("{\"match\": \"a\", \"spec\": \"column\", \"outputReplicate\": \"false\"}");
        assertThat(fails(flag).getMessage()).isEqualTo(at(flag, "\"false\"")
                + "rules[0]: 'outputReplicate' must be true or false, got the string \"false\"");
        String onColumn = oneRule("{\"match\": \"a\", \"spec\": \"column\", \"inputIsParallel\": true}");
        assertThat(fails(onColumn).getMessage()).isEqualTo(at(onColumn, "\"inputIsParallel\"")
                + "rules[0]: 'inputIsParallel' applies only to row, not column");
        String onReplicate = oneRule("{\"match\": \"a\", \"params\": {\"*\": {\"spec\": \"replicate\", \"outputReplicate\": true}}}");
        assertThat(fails(onReplicate).getMessage()).isEqualTo(at(onReplicate, "\"outputReplicate\"")
                + "rules[0].params.*: 'outputReplicate' does not apply to replicate");
        String besideParams = oneRule("{\"match\": \"a\", \"stride\": 3, \"params\": {\"weight\": \"column\"}}");
        assertThat(fails(besideParams).getMessage()).isEqualTo(at(besideParams, "\"stride\"")
                + "rules[0]: 'stride' goes inside a 'params' entry when the rule has 'params'");
    }

    @Test
    void patternAndSpecMustEachBeGivenOnce() {
        String both = oneRule("{\"match\": \"a\", \"regex\": \"a\", \"spec\": \"row\"}");
        assertThat(fails(both).getMessage()).isEqualTo(at(both, "\"regex\"")
                + "rules[0]: needs exactly one of 'match' (a glob of module path segments) and 'regex'");
        String neither = oneRule("{\"spec\": \"row\"}");
        assertThat(fails(neither).getMessage()).startsWith(at(neither, "{\"spec\"") + "rules[0]: needs exactly one of 'match'");
        String twoSpecs = oneRule("{\"match\": \"a\", \"spec\": \"row\", \"params\": {\"weight\": \"row\"}}");
        assertThat(fails(twoSpecs).getMessage()).startsWith(at(twoSpecs, "\"params\"") + "rules[0]: needs exactly one of 'spec'");
        String noSpec = oneRule("{\"match\": \"a\"}");
        assertThat(fails(noSpec).getMessage()).startsWith(at(noSpec, "{\"match\"") + "rules[0]: needs exactly one of 'spec'");
        String emptyParams = oneRule("{\"match\": \"a\", \"params\": {}}");
        assertThat(fails(emptyParams).getMessage()).startsWith(at(emptyParams, "{}") + "rules[0].params is empty");
        String entryWithoutSpec = oneRule("{\"match\": \"a\", \"params\": {\"weight\": {\"stride\": 3}}}");
        assertThat(fails(entryWithoutSpec).getMessage()).startsWith(at(entryWithoutSpec, "{\"stride\"")
                + "rules[0].params.weight: missing required key 'spec'");
        String notObject = oneRule("{\"match\": \"a\", \"params\": {\"weight\": 3}}");
        assertThat(fails(notObject).getMessage()).startsWith(at(notObject, "3}") + "rules[0].params.weight (a spec name or an object) must be an object");
    }

    @Test
    void ruleNamesAreUnique() {
        String json = """
                {
                  "default": "error",
                  "rules": [
                    {"name": "x", "match": "a", "spec": "row"},
                    {"name": "x", "match": "b", "spec": "row"}
                  ]
                }
                """;
        assertThat(fails(json).getMessage()).isEqualTo(SRC + ":5:5: rules[1]: a rule named 'x' already exists at "
                + SRC + ":4:5; rule names must be unique");
        String blank = oneRule("{\"name\": \" \", \"match\": \"a\", \"spec\": \"row\"}");
        assertThat(fails(blank).getMessage()).isEqualTo(at(blank, "\" \"") + "rules[0]: 'name' is empty");
    }

    @Test
    void readsFilesFromAnyPathAndNamesThem(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("my.rules.json");
        Files.writeString(good, TestModels.TINY_RULES);
        assertThat(ShardingRules.fromJson(good).source()).isEqualTo(good.toString());
        Path bad = dir.resolve("bad.rules.json");
        Files.writeString(bad, "{\n  \"default\": \"nope\",\n  \"rules\": []\n}\n");
        assertThatThrownBy(() -> ShardingRules.fromJson(bad)).isInstanceOf(RulesException.class)
                .hasMessage(bad + ":2:14: unknown default 'nope'; expected 'replicate' or 'error'");
        assertThatThrownBy(() -> ShardingRules.fromJson(dir.resolve("missing.json"))).isInstanceOf(RulesException.class)
                .hasMessageContaining("missing.json does not exist");
    }

    @Test
    void resourcesAreNamedByClasspath() {
        assertThatThrownBy(() -> ShardingRules.fromResource("/no/such.rules.json"))
                .hasMessageContaining("/no/such.rules.json is not on the classpath");
    }
}

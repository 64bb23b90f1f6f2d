package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.cli.Colo4jCommand;
import io.colo4j.tensor.MemoryStats;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code colo4j coverage}: the report as a table and as JSON, and its exit status. */
class CoverageCommandTest {
    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Colo4jCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void shippedGpt2RulesCoverTheModel() {
        Run r = run("coverage", "--model", "gpt2", "--tp", "4", "--strict");
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("model: gpt2 (tiny), 28 parameters")
                .contains("transformer.h.0.attn.c_attn.weight").contains("shard(dim 1, 4 parts, stride 3)")
                .contains("parameters: 28, covered by a rule: 28 (100.0%), unmatched: 0, conflicts: 0, dead rules: 0")
                .contains("coverage: complete");
        assertThat(r.exit()).isZero();
    }

    @Test
    void jsonReport() throws Exception {
        Run r = run("coverage", "--model", "gpt2", "--config", "small", "--tp", "2", "--json");
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertThat(root.get("model").asText()).isEqualTo("gpt2");
        assertThat(root.get("config").asText()).isEqualTo("small");
        assertThat(root.get("tp").asInt()).isEqualTo(2);
        assertThat(root.get("parameterCount").asInt()).isEqualTo(148);
        assertThat(root.get("complete").asBoolean()).isTrue();
        JsonNode wte = root.get("parameters").get(0);
        assertThat(wte.get("name").asText()).isEqualTo("transformer.wte.weight");
        assertThat(wte.get("role").asText()).isEqualTo("vocab");
        assertThat(wte.get("globalShape").toString()).isEqualTo("[50258,768]");
        assertThat(wte.get("localShape").toString()).isEqualTo("[25129,768]");
        assertThat(root.get("bytes").get("totalPerRank").asLong()).isEqualTo(
                root.get("bytes").get("shardedPerRank").asLong() + root.get("bytes").get("replicatedPerRank").asLong());
        assertThat(r.exit()).isZero();
    }

    @Test
    void gpt2XlIsPlannedWithoutAllocatingIt() throws Exception {
        RuleCoverageTest.assertBuildsLazily(io.colo4j.zoo.ModelZoo.family("gpt2")); // else xl would allocate 6 GB
        long before = MemoryStats.liveBytes();
        MemoryStats.resetPeak();
        long start = System.nanoTime();
        Run r = run("coverage", "--model", "gpt2", "--config", "xl", "--tp", "4", "--json");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(MemoryStats.peakBytes() - before).as("tensor bytes allocated").isLessThan(1 << 20);
        assertThat(seconds).as("seconds").isLessThan(30);
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertThat(root.get("parameterCount").asInt()).isEqualTo(580);
        assertThat(root.get("bytes").get("serial").asLong()).isGreaterThan(6_000_000_000L);
    }

    @Test
    void incompleteRulesFailInStrictModeOnly(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("incomplete.rules.json");
        Files.writeString(file, RuleCoverageTest.incompleteGpt2Rules().replace("\"default\" : \"error\"", "\"default\" : \"replicate\""));
        Run lenient = run("coverage", "--model", "gpt2", "--rules", file.toString());
        assertThat(lenient.out()).contains("(default)").contains("unmatched: 10")
                .contains("warning: parameter transformer.ln_f.bias [64] is matched by no rule (replicated by \"default\": \"replicate\")")
                .contains("warning: rule 'mlp.fc-typo' (" + file + ":")
                .contains("coverage: INCOMPLETE\n");
        assertThat(lenient.exit()).isZero();
        Run strict = run("coverage", "--model", "gpt2", "--rules", file.toString(), "--strict");
        assertThat(strict.out()).contains("error: parameter transformer.ln_f.bias [64] is matched by no rule")
                .contains("error: rule 'mlp.fc-typo'").contains("coverage: INCOMPLETE (11 errors)");
        assertThat(strict.exit()).isEqualTo(1);
        Run json = run("coverage", "--model", "gpt2", "--rules", file.toString(), "--strict", "--json");
        JsonNode root = new ObjectMapper().readTree(json.out());
        assertThat(root.get("unmatched").size()).isEqualTo(10);
        assertThat(root.get("deadRules").get(0).asText()).isEqualTo("mlp.fc-typo");
        assertThat(root.get("ok").asBoolean()).isFalse();
        assertThat(json.exit()).isEqualTo(1);
    }

    @Test
    void brokenRulesFileIsReportedWithLineAndColumn(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("broken.rules.json");
        Files.writeString(file, "{\n  \"default\": \"error\",\n  \"rules\": [\n    {\"match\": \"transformer.h.*.mlp.c_fc\", \"spec\": \"colum\"}\n  ]\n}\n");
        Run r = run("coverage", "--model", "gpt2", "--rules", file.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("colo4j coverage: " + file + ":4:51: rules[0]: unknown spec 'colum'; expected one of"
                + " 'column', 'row', 'vocab', 'replicate' (did you mean 'column'?)");
    }

    @Test
    void unknownModelOrConfig() {
        Run model = run("coverage", "--model", "gpt3");
        assertThat(model.exit()).isEqualTo(1);
        assertThat(model.err()).contains("unknown model 'gpt3'; the zoo has " + io.colo4j.zoo.ModelZoo.names());
        Run config = run("coverage", "--model", "gpt2", "--config", "huge");
        assertThat(config.exit()).isEqualTo(1);
        assertThat(config.err()).contains("--config huge: gpt2 has " + io.colo4j.zoo.ModelZoo.family("gpt2").configs());
    }
}

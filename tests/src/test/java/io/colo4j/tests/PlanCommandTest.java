package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.cli.Colo4jCommand;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.zoo.ModelZoo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code colo4j plan}: the sizing plan by default (memory per rank, communication per step by collective
 * and by layer, without allocating the model), and {@code --traced}: the records of one measured step.
 */
class PlanCommandTest {
    /** Exit code, stdout and stderr of one in-process run. */
    record Run(int rc, String out, String err) {}

    static Run plan(String... args) {
        List<String> all = new ArrayList<>(List.of("plan"));
        all.addAll(List.of(args));
        return cli(all.toArray(String[]::new));
    }

    /** Any colo4j command, run in this JVM. */
    static Run cli(String... args) {
        PrintStream previous = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int rc;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            CommandLine cli = Colo4jCommand.commandLine();
            cli.setErr(new PrintWriter(err, true));
            rc = cli.execute(args);
        } finally {
            System.setOut(previous);
        }
        return new Run(rc, captured.toString(StandardCharsets.UTF_8), err.toString());
    }

    @Test
    void tracedJsonShowsTwoAllReducesPerLayerEachWay() throws Exception {
        Run run = plan("--model", "gpt2", "--config", "tiny", "--tp", "2", "--traced", "--json");
        assertThat(run.rc()).as(run.err()).isZero();
        JsonNode records = new ObjectMapper().readTree(run.out());
        assertThat(records.isArray()).isTrue();
        int[][] perLayer = new int[2][2];
        for (JsonNode r : records) {
            assertThat(r.fieldNames()).toIterable().containsExactlyInAnyOrder("module", "op", "collective", "bytes", "phase");
            assertThat(r.get("collective").asText()).isIn("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast");
            assertThat(r.get("phase").asText()).isIn("forward", "backward");
            String module = r.get("module").asText();
            for (int layer = 0; layer < 2; layer++) {
                if (module.startsWith("transformer.h." + layer + ".")) {
                    assertThat(r.get("collective").asText()).as(module).isEqualTo("all_reduce");
                    perLayer[layer][r.get("phase").asText().equals("forward") ? 0 : 1]++;
                }
            }
        }
        assertThat(perLayer).isDeepEqualTo(new int[][] {{2, 2}, {2, 2}});
    }

    @Test
    void sizingTextHasMemoryPerRankAndCommunicationByCollectiveAndByLayer() {
        Run run = plan("--model", "gpt2", "--config", "tiny", "--tp", "2", "--dp", "2");
        assertThat(run.rc()).as(run.err()).isZero();
        assertThat(run.out()).contains("gpt2 tiny: tp=2 x dp=2 = 4 ranks, ZeRO stage 0, a step of 1 x 64 tokens per dp rank")
                .contains("memory per rank (float32; parameters, gradients, optimizer state)").contains("activations per rank").contains("AdamW exp_avg + exp_avg_sq")
                .contains("check: (sharded").contains("by collective").contains("by layer")
                .contains("transformer.h.0-1").contains("transformer.h.*.attn.c_proj").contains("dp gradient sync")
                .doesNotContain("NOT SIZED");
    }

    /** The command: GPT-2 xl's 25 heads do not divide by 8; the refusal names them and the degrees that work. */
    @Test
    void xlAtTp8IsRefusedNamingTheHeadCountAndTheDegreesThatWork() {
        Run run = plan("--model", "gpt2", "--config", "xl", "--tp", "8", "--dp", "4");
        assertThat(run.rc()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("colo4j plan: gpt2 xl cannot be sharded at tp=8")
                .contains("transformer.h.0.attn.c_attn.weight [1600, 4800]").contains("25 units of 64 (e.g. attention heads)")
                .contains("25 is not divisible by 8")
                .contains("tp degrees up to 64 at which the rules shard gpt2 xl: 1, 5, 25");
    }

    /**
     * GPT-2 xl (1.5B) at tp 5 x dp 4, in a JVM with a 256 MiB heap: the model is never allocated (the
     * proxy's steps hold under a quarter of its serial parameters), and the numbers are xl's.
     */
    @Test
    void xlSizingRunsInASmallHeapAndPrintsXlsNumbers() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Colo4jCommand.class.getName(),
                "plan", "--model", "gpt2", "--config", "xl", "--tp", "5", "--dp", "4", "--json"));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        JsonNode plan = new ObjectMapper().readTree(out);
        assertThat(plan.get("ranks").asInt()).isEqualTo(20);
        assertThat(plan.get("seq").asInt()).isEqualTo(1024);

        ModelZoo.Family gpt2 = ModelZoo.family("gpt2");
        ShardingPlan sharding = gpt2.rules().plan(gpt2.buildLazily("xl"), 5);
        JsonNode memory = plan.get("memory").get("bytesPerRank");
        long parameters = memory.get("parameters").asLong();
        assertThat(parameters).isEqualTo(sharding.bytesPerRank());
        assertThat(memory.get("gradients").asLong()).isEqualTo(parameters);
        assertThat(memory.get("optimizer").asLong()).isEqualTo(2 * parameters);
        assertThat(memory.get("total").asLong()).isEqualTo(4 * parameters);
        assertThat(plan.get("proxy").get("peakBytes").asLong()).as("the proxy's tensor memory")
                .isPositive().isLessThan(sharding.serialBytes() / 4);

        // per block: 2 all-reduces forward and 2 backward of [1, 1024, 1600] floats, 2 (5 - 1) / 5 of them each
        long activation = 1024L * 1600 * Float.BYTES * 8 / 5;
        JsonNode block = find(plan.get("communication").get("byLayer"), "layer", "transformer.h.0-47");
        assertThat(block.get("instances").asInt()).isEqualTo(48);
        assertThat(block.get("perInstance").get("forward").get("bytes").asLong()).isEqualTo(2 * activation);
        assertThat(block.get("perInstance").get("backward").get("bytes").asLong()).isEqualTo(2 * activation);
        assertThat(block.get("bytes").asLong()).isEqualTo(48 * 4 * activation);
        // the dp gradient sync all-reduces every gradient: 2 (4 - 1) / 4 of the rank's gradients
        JsonNode dp = plan.get("communication").get("byCollective").get(plan.get("communication").get("byCollective").size() - 1);
        assertThat(dp.get("group").asText()).isEqualTo("dp");
        assertThat(dp.get("bytes").asLong()).isEqualTo(parameters * 3 / 2);
        assertThat(plan.get("communication").get("complete").asBoolean()).isTrue();
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) {
            if (n.get(field).asText().equals(value)) {
                return n;
            }
        }
        throw new AssertionError("no " + field + " " + value + " in " + array);
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --rules FILE} on train, eval, plan and generate: any rules file coverage accepts trains to the serial
 * losses (ColossalAI's tutorial layout for GPT-2, a user's MLP-only rules for OPT, at tp 2 and 4), the run names the
 * file and the collectives it implies per layer, {@code plan --compare} puts two rule sets side by side, and a
 * missing or unshardable file is refused naming it.
 */
class RulesOptionTest {
    static final Path TUTORIAL = Path.of("..", "docs", "rules", "gpt2-colossalai-tutorial.rules.json");
    static final Path BUNDLED_GPT2 = Path.of("..", "model-zoo", "src", "main", "resources", "io", "colo4j", "zoo", "gpt2", "gpt2.rules.json");

    /** A user's rules for OPT: only the MLP sharded (fc1 column, fc2 row), everything else replicated by default. */
    static Path optMlpOnly(Path dir) throws Exception {
        return Files.writeString(dir.resolve("opt-mlp.rules.json"), """
                {"model": "opt", "default": "replicate", "rules": [
                  {"name": "fc1", "match": "model.decoder.layers.*.fc1", "spec": "column", "outputReplicate": false},
                  {"name": "fc2", "match": "model.decoder.layers.*.fc2", "spec": "row", "outputReplicate": true}]}
                """);
    }

    private static TrainRuns.Run train(String family, Path rules, int tp, Path save) throws Exception {
        return TrainRuns.train(save, List.of("--model", family, "--rules", rules.toString(), "--steps", "3", "--batch", "4", "--seq", "16",
                "--tp", String.valueOf(tp), "--log-every", "3"));
    }

    private static void assertSameLosses(List<Double> actual, List<Double> serial, String what) {
        assertThat(actual).hasSameSizeAs(serial);
        for (int i = 0; i < serial.size(); i++) {
            assertThat(actual.get(i)).as("%s step %d", what, i).isCloseTo(serial.get(i), within(1e-5 * Math.abs(serial.get(i))));
        }
    }

    @Test
    void theColossalAiTutorialRulesTrainGpt2ToTheSerialLosses(@TempDir Path dir) throws Exception {
        TrainRuns.Run serial = train("gpt2", TUTORIAL, 1, dir.resolve("tp1"));
        assertThat(serial.log()).contains("rules: " + TUTORIAL + " (tp=1: nothing sharded, no collectives)");
        for (int tp : new int[] {2, 4}) {
            TrainRuns.Run sharded = train("gpt2", TUTORIAL, tp, dir.resolve("tp" + tp));
            assertSameLosses(sharded.losses(), serial.losses(), "tutorial rules at tp=" + tp);
            assertThat(sharded.log()).contains("rules: " + TUTORIAL + "; tp collectives of one instance of each layer")
                    .containsPattern("\n  transformer\\.h\\.0-1 x2: forward .*all_reduce.*; backward .*all_reduce");
        }
        // the bundled (Megatron) rules: the header shows its 2 + 2 all-reduces per block and nothing else
        TrainRuns.Run megatron = TrainRuns.train(dir.resolve("bundled"), List.of("--model", "gpt2", "--steps", "1", "--batch", "2", "--seq", "16",
                "--tp", "2"));
        assertThat(megatron.log()).contains("rules: classpath:/io/colo4j/zoo/gpt2/gpt2.rules.json;")
                .contains("\n  transformer.h.0-1 x2: forward 2 all_reduce; backward 2 all_reduce\n");
    }

    @Test
    void aUserRulesFileTrainsOptToTheSerialLosses(@TempDir Path dir) throws Exception {
        Path rules = optMlpOnly(dir);
        List<Double> serial = train("opt", rules, 1, dir.resolve("tp1")).losses();
        for (int tp : new int[] {2, 4}) {
            TrainRuns.Run sharded = train("opt", rules, tp, dir.resolve("tp" + tp));
            assertSameLosses(sharded.losses(), serial, "opt mlp-only rules at tp=" + tp);
            assertThat(sharded.log()).contains("  model.decoder.layers.0-1 x2: forward 1 all_reduce; backward 1 all_reduce");
        }
    }

    @Test
    void evalWithTheTutorialRulesPrintsTheReferenceLoss() throws Exception {
        Path fixtures = Path.of("..", "model-zoo", "src", "test", "resources", "gpt2-ref");
        Matcher m = Pattern.compile("step 0 loss ([0-9.]+)").matcher(Files.readString(fixtures.resolve("expected-hub.txt")));
        assertThat(m.find()).isTrue();
        double expected = Double.parseDouble(m.group(1));
        for (String tp : new String[] {"2", "4"}) {
            CliRun r = CliRun.of("eval", "--model-dir", fixtures.resolve("hub").toString(), "--tokens", fixtures.resolve("tokens.txt").toString(),
                    "--tp", tp, "--rules", TUTORIAL.toString());
            assertThat(r.exit()).as(r.err()).isZero();
            double loss = Double.parseDouble(r.out().trim().substring("loss ".length()));
            assertThat(Math.abs(loss - expected) / expected).as(r.out()).isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void planComparesTwoRuleSetsLayerByLayer() {
        CliRun r = CliRun.of("plan", "--model", "gpt2", "--rules", BUNDLED_GPT2.toString(), "--compare", BUNDLED_GPT2.toString(), "--seq", "32");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("  A: " + BUNDLED_GPT2, "  B: " + BUNDLED_GPT2, "B - A bytes", "transformer.h.0-1",
                "communication: A and B send the same bytes per step");
        CliRun tutorial = CliRun.of("plan", "--model", "gpt2", "--rules", TUTORIAL.toString(), "--compare", BUNDLED_GPT2.toString());
        assertThat(tutorial.out()).contains("  A: " + TUTORIAL, "  B: " + BUNDLED_GPT2)
                // 16 collectives a block: the bundled rules' 4 all-reduces, plus what the tutorial's layout costs
                // (ln over a split hidden dim, gathered qkv, c_proj's replicated bias summed over tp in backward)
                .containsPattern("\n  transformer\\.h\\.0-1 +2 +32 .* 8 +131,072");
    }

    @Test
    void aMissingOrUnshardableRulesFileIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.rules.json");
        List<String[]> commands = new ArrayList<>();
        commands.add(new String[] {"train", "--model", "gpt2", "--steps", "1", "--rules", missing.toString()});
        commands.add(new String[] {"plan", "--model", "gpt2", "--rules", missing.toString()});
        commands.add(new String[] {"coverage", "--model", "gpt2", "--rules", missing.toString()});
        commands.add(new String[] {"plan", "--model", "gpt2", "--compare", missing.toString()});
        for (String[] command : commands) {
            CliRun r = CliRun.of(command);
            assertThat(r.exit()).as(String.join(" ", command)).isEqualTo(1);
            assertThat(r.err()).contains("rules file " + missing + " does not exist");
        }
        // gpt2 tiny is 64 wide with 4 heads: tp 3 divides neither
        CliRun odd = CliRun.of("train", "--model", "gpt2", "--steps", "1", "--tp", "3", "--rules", TUTORIAL.toString());
        assertThat(odd.exit()).isEqualTo(1);
        assertThat(odd.err()).contains("cannot be sharded at tp=3 (rules " + TUTORIAL).contains("tp degrees up to 64 at which the rules shard");
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.cli.Colo4jCommand;
import io.colo4j.tensor.comm.MpiRun;
import io.colo4j.zoo.train.Evaluation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate} and {@code eval} under mpirun run one rank per process (as train does): the ids and the loss are
 * the in-JVM ranks', printed once (by rank 0), and a process count other than --tp is refused naming both.
 */
@Timeout(300)
class MpiGenerateTest {
    private static final Path GPT2 = Path.of("..", "model-zoo", "src", "test", "resources", "gpt2-ref", "hub");

    private static String[] generate(Path prompts) {
        return new String[] {"generate", "--model-dir", GPT2.toString(), "--tokens", prompts.toString(), "--max-new-tokens", "8",
            "--greedy", "--tp", "2"};
    }

    private static Path prompts(Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int[] ids : Evaluation.readTokenLines(GPT2.getParent().resolve("tokens.txt"))) {
            lines.add(Arrays.stream(Arrays.copyOf(ids, 6)).mapToObj(String::valueOf).collect(Collectors.joining(" ")));
        }
        return Files.write(dir.resolve("prompts.txt"), lines);
    }

    @Test
    void greedyIdsUnderMpirunAreTheInJvmRanksPrintedOnce(@TempDir Path dir) throws Exception {
        Path prompts = prompts(dir);
        CliRun inJvm = CliRun.of(generate(prompts));
        assertThat(inJvm.exit()).as(inJvm.err()).isZero();
        MpiRun.Result run = MpiRun.launch(2, List.of("-Xmx512m"), Colo4jCommand.class.getName(), 180, generate(prompts));
        assertThat(run.exitCode()).as(run.toString()).isZero();
        List<String> idLines = run.output().lines().filter(l -> l.matches("[0-9]+( [0-9]+)*")).toList();
        assertThat(idLines).as(run.toString()).isEqualTo(inJvm.out().lines().toList());
        assertThat(run.output().split("generated 32 tokens", -1)).as("the speed, told once").hasSize(2);
        assertThat(run.output()).contains("(gpt2, tp=2, KV cache)");
    }

    @Test
    void aProcessCountThatIsNotTpIsRefused(@TempDir Path dir) throws Exception {
        MpiRun.Result run = MpiRun.launch(3, List.of("-Xmx256m"), Colo4jCommand.class.getName(), 120, generate(prompts(dir)));
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.output()).contains("mpirun started 3 processes but --tp 2 = 2 ranks are needed");
    }

    @Test
    void evalUnderMpirunPrintsTheInJvmLossOnce() {
        String[] eval = {"eval", "--model-dir", GPT2.toString(), "--tokens", GPT2.getParent().resolve("tokens.txt").toString(), "--tp", "2"};
        CliRun inJvm = CliRun.of(eval);
        assertThat(inJvm.exit()).as(inJvm.err()).isZero();
        MpiRun.Result run = MpiRun.launch(2, List.of("-Xmx512m"), Colo4jCommand.class.getName(), 180, eval);
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.output().lines().filter(l -> l.startsWith("loss ")).toList()).as(run.toString()).containsExactly(inJvm.out().strip());
    }
}

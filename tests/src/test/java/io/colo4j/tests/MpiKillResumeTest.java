package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.cli.Colo4jCommand;
import io.colo4j.tensor.comm.MpiRun;
import io.colo4j.zoo.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Robustness of training under mpirun: a rank killed with SIGKILL mid-run ends the job quickly, non-zero, with
 * output naming it, and the last completed checkpoint resumes to the uninterrupted run's losses bit for bit;
 * a checkpoint saved under mpirun resumes at other tp x dp layouts, in processes or in-JVM ranks.
 */
@Timeout(400)
class MpiKillResumeTest {
    /** The ranks' collective timeout (colo4j.comm.timeout, seconds): a killed rank must end the job well before it. */
    private static final int COMM_TIMEOUT = 60;
    /**
     * Rank JVMs: small, and C1 only. The Vector API's reductions round differently once C2 intrinsifies them, and
     * a resumed run reaches that point at another step than the uninterrupted one; the interpreter and C1 both run
     * the portable Java code, so fresh JVMs agree to the bit whatever they have compiled so far.
     */
    private static final List<String> RANK_JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dcolo4j.comm.timeout=" + COMM_TIMEOUT);

    private static String[] train(int steps, int tp, int dp, Path save, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "gpt2", "--config", "tiny", "--steps", String.valueOf(steps),
                "--batch", "4", "--seq", "16", "--tp", String.valueOf(tp), "--dp", String.valueOf(dp), "--log-every", "4",
                "--save", save.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static MpiRun.Result mpirun(int np, String... args) {
        MpiRun.Result run = MpiRun.launch(np, RANK_JVM, Colo4jCommand.class.getName(), 240, args);
        assertThat(run.exitCode()).as("%s", run).isZero();
        return run;
    }

    /** The loss column of a save folder's losses.csv, step 0 first, as written (Float.toString round-trips). */
    private static List<String> losses(Path saveDir) throws Exception {
        return Files.readAllLines(saveDir.resolve("losses.csv")).stream().skip(1).map(l -> l.split(",")[1]).toList();
    }

    /**
     * 16 steps, a checkpoint every 2. The test kills world rank 1 as soon as the first checkpoint is complete
     * ({@code latest} exists), with at least 12 steps still to run; then resumes from what {@code latest} names
     * under mpirun again, into the same folder, and compares the whole loss history with an uninterrupted run.
     */
    @ParameterizedTest(name = "mpirun -np {0}: tp 2 x dp {1}")
    @CsvSource({"2, 1", "4, 2"})
    void aRankKilledMidRunEndsTheJobNamingItAndTheLastCheckpointResumesBitForBit(int np, int dp, @TempDir Path dir) throws Exception {
        int steps = 16;
        Path reference = dir.resolve("uninterrupted");
        mpirun(np, train(steps, 2, dp, reference, "--save-every", "2"));

        Path killed = dir.resolve("killed");
        ProcessHandle victim;
        long killedAt;
        MpiRun.Result run;
        try (MpiRun.Job job = MpiRun.start(np, List.of(), RANK_JVM, Colo4jCommand.class.getName(), 240,
                train(steps, 2, dp, killed, "--save-every", "2"))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!Files.exists(killed.resolve(Trainer.LATEST))) {
                assertThat(job.isAlive()).as("the job ended before its first checkpoint:\n%s", job.output()).isTrue();
                assertThat(System.nanoTime() - deadline).as("no checkpoint after 180 s:\n%s", job.output()).isNegative();
                Thread.sleep(20); // polling for the file
            }
            // rank 0 is finishing the checkpoint's bookkeeping, the other ranks wait in the next step's first collective
            victim = job.rankProcess(1).orElseThrow(() -> new AssertionError("no process for world rank 1:\n" + job.output()));
            killedAt = System.nanoTime();
            assertThat(victim.destroyForcibly()).as("SIGKILL to rank 1 (pid %d)", victim.pid()).isTrue();
            run = job.await();
        }
        double afterKill = (System.nanoTime() - killedAt) / 1e9;
        assertThat(run.exitCode()).as("%s", run).isNotZero();
        assertThat(afterKill).as("seconds from the kill to the end of the job (collective timeout %d s): %s", COMM_TIMEOUT, run)
                .isLessThan(COMM_TIMEOUT / 2.0);
        assertThat(run.output()).as("the run must not have finished before the kill: %s", run).doesNotContain("trained steps");
        // mpirun's summary, and the survivors' own line (from whichever path ended them: mpirun's SIGTERM, or
        // their own detection in a collective), which names the rank with its pid
        assertThat(run.output()).as("%s", run).containsPattern("process rank 1 with PID \\d+ on node \\S+ exited on signal 9");
        assertThat(run.output()).as("%s", run)
                .containsPattern("(rank 1 \\(|world rank 1, )pid " + victim.pid() + " on [^)]+\\)[^\\n]* exited");

        // the last completed checkpoint: a whole one, never a staged folder
        Path checkpoint = Trainer.resolveCheckpoint(killed);
        assertThat(checkpoint.getFileName().toString()).matches("checkpoint-\\d+");
        int at = Integer.parseInt(checkpoint.getFileName().toString().substring("checkpoint-".length()));
        assertThat(at).as("checkpoint step").isBetween(2, steps - 2);
        for (String file : List.of("config.json", "model.safetensors", Trainer.OPTIMIZER, Trainer.STATE)) {
            assertThat(checkpoint.resolve(file)).isRegularFile();
        }

        MpiRun.Result resumed = mpirun(np, train(steps, 2, dp, killed, "--save-every", "2", "--resume", killed.toString()));
        assertThat(resumed.output()).as("%s", resumed).contains("resumed from " + checkpoint + " at step " + at);
        assertThat(losses(killed)).as("losses of the killed and resumed run vs the uninterrupted one")
                .hasSize(steps).containsExactlyElementsOf(losses(reference));
    }

    /**
     * A checkpoint written under {@code mpirun -np 2} (tp 2) at step 6 of 8 resumes under {@code mpirun -np 4}
     * (tp 2 x dp 2) and in-JVM at tp 4 and serially. The restored history is the source run's exactly; the two
     * steps trained after it match the uninterrupted source run only to a tolerance, because another layout
     * sums in another order (dp all-reduce of gradients, tp partial sums): float rounding, nothing more. Resuming
     * at the same layout is bit for bit (the kill test above).
     */
    @Test
    void aCheckpointSavedUnderMpirunResumesAtOtherTpAndDp(@TempDir Path dir) throws Exception {
        int steps = 8;
        int at = 6;
        Path source = dir.resolve("tp2");
        mpirun(2, train(steps, 2, 1, source, "--save-every", "2"));
        List<String> uninterrupted = losses(source);
        Path checkpoint = source.resolve("checkpoint-" + at);
        assertThat(checkpoint.resolve(Trainer.STATE)).isRegularFile();

        Path dp2 = dir.resolve("tp2-dp2");
        mpirun(4, train(steps, 2, 2, dp2, "--resume", checkpoint.toString()));
        assertContinues(losses(dp2), uninterrupted, at, "mpirun -np 4, tp 2 x dp 2");

        for (int tp : new int[] {4, 1}) {
            Path inJvm = dir.resolve("in-jvm-tp" + tp);
            assertThat(Colo4jCommand.commandLine().execute(train(steps, tp, 1, inJvm, "--resume", checkpoint.toString())))
                    .as("in-JVM resume at tp %d", tp).isZero();
            assertContinues(losses(inJvm), uninterrupted, at, "in-JVM tp " + tp);
        }
    }

    private static void assertContinues(List<String> resumed, List<String> uninterrupted, int at, String layout) {
        assertThat(resumed).as(layout).hasSameSizeAs(uninterrupted);
        assertThat(resumed.subList(0, at)).as("%s: the restored history", layout).isEqualTo(uninterrupted.subList(0, at));
        for (int i = at; i < resumed.size(); i++) {
            float want = Float.parseFloat(uninterrupted.get(i));
            assertThat(Float.parseFloat(resumed.get(i))).as("%s: loss at step %d", layout, i).isCloseTo(want, within(1e-4f * want));
        }
    }
}

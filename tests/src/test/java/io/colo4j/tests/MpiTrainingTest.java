package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.cli.Colo4jCommand;
import io.colo4j.tensor.comm.MpiRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same train command under mpirun (one rank per process, Open MPI through FFM) gives the losses
 * of the in-JVM ranks: the reduction order is the same, so they agree to the bit.
 */
@Timeout(300)
class MpiTrainingTest {
    private static final String[] TRAIN = {"train", "--model", "gpt2", "--config", "tiny", "--steps", "4", "--batch", "4",
        "--seq", "16", "--tp", "2", "--log-every", "4"};

    private static List<String> losses(Path dir) throws Exception {
        return Files.readAllLines(dir.resolve("losses.csv")).stream().skip(1).map(l -> l.split(",")[1]).toList();
    }

    @Test
    void trainingUnderMpirunReproducesTheInJvmRanks(@TempDir Path dir) throws Exception {
        Path threads = dir.resolve("threads");
        String[] inJvm = java.util.stream.Stream.concat(java.util.Arrays.stream(TRAIN),
                java.util.stream.Stream.of("--save", threads.toString())).toArray(String[]::new);
        assertThat(Colo4jCommand.commandLine().execute(inJvm)).isZero();

        Path mpi = dir.resolve("mpi");
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(TRAIN),
                java.util.stream.Stream.of("--save", mpi.toString())).toArray(String[]::new);
        MpiRun.Result run = MpiRun.launch(2, List.of("-Xmx512m"), Colo4jCommand.class.getName(), 180, args);
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(losses(mpi)).isEqualTo(losses(threads));
    }

    /** Four processes as a 2 x 2 mesh, ZeRO-2 over dp: the same bits as four in-JVM ranks. */
    @Test
    void zeroTwoOnATwoByTwoMeshUnderMpirunReproducesTheInJvmRanks(@TempDir Path dir) throws Exception {
        String[] mesh = java.util.stream.Stream.concat(java.util.Arrays.stream(TRAIN).map(a -> a.equals("--tp") ? "--dp" : a),
                java.util.stream.Stream.of("--tp", "2", "--zero", "2")).toArray(String[]::new);
        Path threads = dir.resolve("threads");
        assertThat(Colo4jCommand.commandLine().execute(with(mesh, "--save", threads.toString()))).isZero();
        Path mpi = dir.resolve("mpi");
        MpiRun.Result run = MpiRun.launch(4, List.of("-Xmx256m"), Colo4jCommand.class.getName(), 240,
                with(mesh, "--save", mpi.toString()));
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.output()).contains("(ZeRO-2 over dp=2)");
        assertThat(losses(mpi)).isEqualTo(losses(threads));
    }

    private static String[] with(String[] args, String... more) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(more)).toArray(String[]::new);
    }

    @Test
    void aProcessCountThatIsNotTpTimesDpIsRefused(@TempDir Path dir) {
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(TRAIN),
                java.util.stream.Stream.of("--save", dir.toString())).toArray(String[]::new);
        MpiRun.Result run = MpiRun.launch(3, List.of("-Xmx256m"), Colo4jCommand.class.getName(), 120, args);
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.output()).contains("mpirun started 3 processes but --tp 2 x --dp 1 = 2 ranks are needed");
    }
}

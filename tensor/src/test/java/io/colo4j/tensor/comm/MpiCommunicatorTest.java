package io.colo4j.tensor.comm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs {@link MpiTestMain} under {@code mpirun -np N} with this JVM's java and the test classpath. Without
 * mpirun these tests fail (they are not skipped): install Open MPI with bin/install-deps.
 */
@Timeout(180)
class MpiCommunicatorTest {


    @ParameterizedTest(name = "mpirun -np {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void everyCollectiveIsExactUnderMpi(int np) {
        MpiRun.Result run = mpirun(np, "collectives");
        assertThat(run.exitCode()).as("%s", run).isZero();
        for (int r = 0; r < np; r++) {
            assertThat(run.output()).as("%s", run).contains("rank " + r + " of " + np + ": ALL OK (mpi, world rank " + r + ")");
        }
        // the random all-reduce hashes agree across ranks (also checked bitwise inside each rank)
        Matcher m = Pattern.compile("rank \\d+ of \\d+: maxCount (\\d+) random allReduce hash ([0-9a-f]+)").matcher(run.output());
        Map<String, TreeSet<String>> hashes = new java.util.HashMap<>();
        int lines = 0;
        while (m.find()) {
            hashes.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
            lines++;
        }
        assertThat(lines).as("%s", run).isEqualTo(2 * np);
        assertThat(hashes.values()).as("%s", run).allSatisfy(h -> assertThat(h).hasSize(1));
    }

    @Test
    void aRankThatThrowsEndsTheJobQuicklyWithNonZeroExit() {
        MpiRun.Result run = mpirun(2, "throw");
        assertThat(run.exitCode()).as("%s", run).isNotZero();
        assertThat(run.output()).as("%s", run).contains("rank 1 of 2 failed", "boom from rank 1")
                .doesNotContain("UNREACHABLE");
        assertThat(run.seconds()).as("%s", run).isLessThan(30);
    }

    @Test
    void anExceptionEscapingAPlainMainAlsoEndsTheJob() {
        MpiRun.Result run = mpirun(2, "throw-plain");
        assertThat(run.exitCode()).as("%s", run).isNotZero();
        assertThat(run.output()).as("%s", run).contains("plain boom from rank 1").doesNotContain("UNREACHABLE");
        assertThat(run.seconds()).as("%s", run).isLessThan(30);
    }

    @Test
    void aRankThatNeverArrivesIsNamedAfterTheTimeout() {
        MpiRun.Result run = mpirun(2, "timeout", "-Dcolo4j.comm.timeout=2");
        assertThat(run.exitCode()).as("%s", run).isNotZero();
        assertThat(run.output()).as("%s", run)
                .contains("allReduce", "on rank 0 of 2 timed out", "waiting for rank 1")
                .doesNotContain("CommTimeoutException", "\tat io.colo4j") // one line, no class name, no trace
                .doesNotContain("UNREACHABLE");
        assertThat(run.seconds()).as("rank 1 sleeps 60 s; the job must end long before: %s", run).isLessThan(40);
    }

    /**
     * A rank killed by SIGKILL while the others wait for it: the survivors find its process gone and end the job
     * naming it within seconds, whether they wait for its header or sit inside the blocking MPI call. mpirun runs
     * with --enable-recovery, so it does not end the survivors itself (as Open MPI does by default): what ends
     * them here is colo4j's own detection, the path for launchers that leave survivors running.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"killed-before-header", "killed-in-data"})
    void aKilledRankIsNamedByTheSurvivorsLongBeforeTheTimeout(String scenario) throws Exception {
        List<String> options = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-Dcolo4j.comm.timeout=60");
        try (MpiRun.Job job = MpiRun.start(2, List.of("--enable-recovery"), options, MpiTestMain.class.getName(), 120, scenario)) {
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (!job.output().contains("rank 1 waits to be killed")) {
                assertThat(job.isAlive()).as("the job ended before rank 1 was ready:\n%s", job.output()).isTrue();
                assertThat(System.nanoTime()).as("rank 1 never got ready:\n%s", job.output()).isLessThan(deadline);
                Thread.sleep(20); // polling the output
            }
            ProcessHandle rank1 = job.rankProcess(1).orElseThrow(() -> new AssertionError("no rank 1 process:\n" + job.output()));
            long killedAt = System.nanoTime();
            assertThat(rank1.destroyForcibly()).isTrue();
            MpiRun.Result run = job.await();
            double afterKill = (System.nanoTime() - killedAt) / 1e9;
            String named = "rank 1 (pid " + rank1.pid() + " on ";
            assertThat(run.output()).as("%s", run).contains(named, "has exited (killed or crashed)").doesNotContain("UNREACHABLE");
            if (scenario.equals("killed-before-header")) {
                assertThat(run.output()).as("%s", run).contains("allReduce (#2) on rank 0 of 2 cannot complete").doesNotContain("CommAbortedException");
            } else {
                assertThat(run.output()).as("%s", run).contains("MPI allReduce on rank 0 of 2", "cannot finish", "aborting the MPI job");
            }
            assertThat(afterKill).as("seconds from the kill to the end of the job (timeout 60 s): %s", run).isLessThan(20);
        }
    }

    @Test
    void withoutMpirunTheTestsFailSayingHowToInstallIt() {
        assertThatThrownBy(() -> MpiRun.findMpirun("/nonexistent-colo4j-dir"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("mpirun not found").hasMessageContaining("bin/install-deps");
    }

    // ---- launching ----------------------------------------------------------------------------------------------

    static MpiRun.Result mpirun(int np, String scenario, String... jvmOptions) {
        List<String> options = new ArrayList<>(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m"));
        options.addAll(List.of(jvmOptions));
        return MpiRun.launch(np, options, MpiTestMain.class.getName(), 120, scenario);
    }

}

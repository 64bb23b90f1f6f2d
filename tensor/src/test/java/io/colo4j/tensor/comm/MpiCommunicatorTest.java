package io.colo4j.tensor.comm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

    /** What one mpirun launch did. */
    record Run(int exitCode, String output, double seconds) {
        @Override
        public String toString() {
            return "mpirun exit " + exitCode + " after " + String.format("%.1f", seconds) + " s, output:\n" + output;
        }
    }

    @ParameterizedTest(name = "mpirun -np {0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void everyCollectiveIsExactUnderMpi(int np) {
        Run run = mpirun(np, "collectives");
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
        Run run = mpirun(2, "throw");
        assertThat(run.exitCode()).as("%s", run).isNotZero();
        assertThat(run.output()).as("%s", run).contains("rank 1 of 2 failed", "boom from rank 1")
                .doesNotContain("UNREACHABLE");
        assertThat(run.seconds()).as("%s", run).isLessThan(30);
    }

    @Test
    void anExceptionEscapingAPlainMainAlsoEndsTheJob() {
        Run run = mpirun(2, "throw-plain");
        assertThat(run.exitCode()).as("%s", run).isNotZero();
        assertThat(run.output()).as("%s", run).contains("plain boom from rank 1").doesNotContain("UNREACHABLE");
        assertThat(run.seconds()).as("%s", run).isLessThan(30);
    }

    @Test
    void aRankThatNeverArrivesIsNamedAfterTheTimeout() {
        Run run = mpirun(2, "timeout", "-Dcolo4j.comm.timeout=2");
        assertThat(run.exitCode()).as("%s", run).isNotZero();
        assertThat(run.output()).as("%s", run)
                .contains("CommTimeoutException", "allReduce", "on rank 0 of 2 timed out", "waiting for rank 1")
                .doesNotContain("UNREACHABLE");
        assertThat(run.seconds()).as("rank 1 sleeps 60 s; the job must end long before: %s", run).isLessThan(40);
    }

    @Test
    void withoutMpirunTheTestsFailSayingHowToInstallIt() {
        assertThatThrownBy(() -> findMpirun("/nonexistent-colo4j-dir"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("mpirun not found").hasMessageContaining("bin/install-deps");
    }

    // ---- launching ----------------------------------------------------------------------------------------------

    static Run mpirun(int np, String scenario, String... jvmOptions) {
        Path mpirun = findMpirun();
        String javaBin = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--timeout", "120", "-np", String.valueOf(np), javaBin,
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx256m"));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", testClasspath(), MpiTestMain.class.getName(), scenario));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        env.put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        env.put("OMPI_MCA_rmaps_base_oversubscribe", "1");
        env.put("OMPI_MCA_pml", "ob1");
        env.put("OMPI_MCA_btl", "self,vader,tcp");
        env.remove("JAVA_TOOL_OPTIONS");
        long t0 = System.nanoTime();
        try {
            Process p = pb.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            if (!p.waitFor(150, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("mpirun -np " + np + " " + scenario + " did not end within 150 s; output so far:\n" + out.getNow(""));
            }
            String text = out.get(10, TimeUnit.SECONDS).lines()
                    .filter(l -> !l.contains("Using incubator modules"))
                    .collect(java.util.stream.Collectors.joining("\n"));
            return new Run(p.exitValue(), text, (System.nanoTime() - t0) / 1e9);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("running mpirun -np " + np + " " + scenario + ": " + e, e);
        }
    }

    static Path findMpirun() {
        return findMpirun(System.getenv().getOrDefault("PATH", ""));
    }

    static Path findMpirun(String searchPath) {
        for (String dir : searchPath.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "mpirun");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return fail("mpirun not found on PATH: the MPI communicator tests need Open MPI. Run bin/install-deps "
                + "(installs the Debian packages openmpi-bin and libopenmpi3), then rerun the tests.");
    }

    /** The classpath surefire runs the tests with (its manifest-only jar hides it from java.class.path). */
    static String testClasspath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return cp;
    }
}

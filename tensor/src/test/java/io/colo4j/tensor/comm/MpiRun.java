package io.colo4j.tensor.comm;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Launches a main class of the test classpath under {@code mpirun -np N} (as root, oversubscribed, shared
 * memory + TCP), with this JVM's java, and returns what happened. Shared by every module's MPI tests.
 */
public final class MpiRun {
    private MpiRun() {}

    /** What one mpirun launch did. */
    public record Result(int exitCode, String output, double seconds) {
        @Override
        public String toString() {
            return "mpirun exit " + exitCode + " after " + String.format("%.1f", seconds) + " s, output:\n" + output;
        }
    }

    /** mpirun -np {@code np} java {@code jvmOptions} -cp (test classpath) {@code mainClass} {@code args}; fails after {@code limitSeconds}. */
    public static Result launch(int np, List<String> jvmOptions, String mainClass, int limitSeconds, String... args) {
        Path mpirun = findMpirun();
        String javaBin = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--timeout", String.valueOf(limitSeconds), "-np",
                String.valueOf(np), javaBin, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xshare:auto"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", testClasspath(), mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        env.put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        env.put("OMPI_MCA_rmaps_base_oversubscribe", "1");
        env.put("OMPI_MCA_pml", "ob1");
        env.put("OMPI_MCA_btl", "self,vader,tcp");
        env.put("MALLOC_ARENA_MAX", "1");
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
            if (!p.waitFor(limitSeconds + 30L, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("mpirun -np " + np + " " + mainClass + " did not end within " + (limitSeconds + 30) + " s; output so far:\n"
                        + out.getNow(""));
            }
            String text = out.get(10, TimeUnit.SECONDS).lines()
                    .filter(l -> !l.contains("Using incubator modules"))
                    .collect(java.util.stream.Collectors.joining("\n"));
            return new Result(p.exitValue(), text, (System.nanoTime() - t0) / 1e9);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("running mpirun -np " + np + " " + mainClass + ": " + e, e);
        }
    }

    public static Path findMpirun() {
        return findMpirun(System.getenv().getOrDefault("PATH", ""));
    }

    public static Path findMpirun(String searchPath) {
        for (String dir : searchPath.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "mpirun");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return fail("mpirun not found on PATH: the MPI tests need Open MPI. Run bin/install-deps "
                + "(installs the Debian packages openmpi-bin and libopenmpi3), then rerun the tests.");
    }

    public static String testClasspath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return cp;
    }
}

package io.colo4j.tensor.comm;

import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Launches a main class of the test classpath under {@code mpirun -np N} (as root, oversubscribed, shared
 * memory + TCP), with this JVM's java. {@link #launch} waits and returns what happened; {@link #start} returns
 * the running {@link Job} (its output so far, its rank processes) for tests that act on a job while it runs.
 * Shared by every module's MPI tests.
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
        try (Job job = start(np, List.of(), jvmOptions, mainClass, limitSeconds, args)) {
            return job.await();
        }
    }

    /**
     * Starts mpirun {@code mpirunOptions} -np {@code np} java ... and returns at once. mpirun itself ends the job
     * after {@code limitSeconds}; {@link Job#await()} fails 30 s later still.
     */
    public static Job start(int np, List<String> mpirunOptions, List<String> jvmOptions, String mainClass, int limitSeconds,
                            String... args) {
        String javaBin = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(findMpirun().toString(), "--timeout", String.valueOf(limitSeconds)));
        cmd.addAll(mpirunOptions);
        cmd.addAll(List.of("-np", String.valueOf(np), javaBin, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xshare:auto"));
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
        try {
            return new Job(pb.start(), "mpirun -np " + np + " " + mainClass, limitSeconds);
        } catch (IOException e) {
            throw new UncheckedIOException("starting mpirun -np " + np + " " + mainClass, e);
        }
    }

    /** A running mpirun: its combined output as it arrives, its rank processes, its end. */
    public static final class Job implements AutoCloseable {
        private final Process process;
        private final String what;
        private final int limitSeconds;
        private final long t0 = System.nanoTime();
        private final StringBuilder output = new StringBuilder();
        private final Thread reader;

        private Job(Process process, String what, int limitSeconds) {
            this.process = process;
            this.what = what;
            this.limitSeconds = limitSeconds;
            this.reader = Thread.ofPlatform().daemon(true).name("mpirun-output").start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        if (!line.contains("Using incubator modules")) {
                            synchronized (output) {
                                output.append(line).append('\n');
                            }
                        }
                    }
                } catch (IOException e) {
                    synchronized (output) {
                        output.append("(reading mpirun's output failed: ").append(e).append(")\n");
                    }
                }
            });
        }

        /** Everything mpirun and the ranks printed so far. */
        public String output() {
            synchronized (output) {
                return output.toString();
            }
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /**
         * The process of MPI world rank {@code rank}: the descendant of mpirun whose environment has
         * OMPI_COMM_WORLD_RANK={@code rank} (set by mpirun, visible once the rank has exec'd java). Empty
         * while it has not started, or after it ended.
         */
        public Optional<ProcessHandle> rankProcess(int rank) {
            String wanted = "OMPI_COMM_WORLD_RANK=" + rank;
            return process.descendants().filter(p -> environment(p).contains(wanted)).findFirst();
        }

        private static List<String> environment(ProcessHandle p) {
            try {
                return List.of(Files.readString(Path.of("/proc", Long.toString(p.pid()), "environ"),
                        StandardCharsets.ISO_8859_1).split("\0"));
            } catch (IOException e) {
                return List.of(); // ended meanwhile, or not ours to read
            }
        }

        /** Waits for mpirun to end (failing the test past {@code limitSeconds} + 30 s) and returns what it did. */
        public Result await() {
            try {
                long left = TimeUnit.SECONDS.toNanos(limitSeconds + 30L) - (System.nanoTime() - t0);
                if (!process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                    close();
                    fail(what + " did not end within " + (limitSeconds + 30) + " s; output so far:\n" + output());
                }
                reader.join(TimeUnit.SECONDS.toMillis(10));
                return new Result(process.exitValue(), output().lines().collect(Collectors.joining("\n")), (System.nanoTime() - t0) / 1e9);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + what, e);
            }
        }

        /** Kills mpirun and every rank if still running. */
        @Override
        public void close() {
            if (process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
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

package io.colo4j.cli.fuzz;

import io.colo4j.cli.Colo4jCommand;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * Feeds inputs to the real CLI, in this process, as {@code bin/colo4j} would run them (the command objects
 * through picocli, the CLI's own error handler), each on a thread of its own with a time limit: a run still going
 * after it is a hang, left behind (a daemon, interrupted) while the next input goes on.
 */
public final class FuzzRunner implements AutoCloseable {
    private final Path work;
    private final long timeoutMillis;
    private final FuzzAssets assets;
    private final CapturedOutput.Installed streams;
    private int fed;

    public FuzzRunner(long timeoutMillis) throws IOException {
        this.timeoutMillis = timeoutMillis;
        // thousands of small files: on tmpfs where there is one, so the disk does not set the pace
        Path shm = Path.of("/dev/shm");
        this.work = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "colo4j-fuzz")
                : Files.createTempDirectory("colo4j-fuzz");
        this.assets = FuzzAssets.create(work);
        this.assets.cli = args -> execute(args, Math.max(timeoutMillis, FuzzAssets.BASE_RUN_MILLIS));
        this.streams = new CapturedOutput.Installed();
    }

    /** {@code count} inputs of {@code inputClass} drawn from {@code seed} (the same seed, the same inputs). */
    public List<HostileInput> corpus(InputClass inputClass, int count, long seed) {
        return inputClass.corpus(assets).inputs(inputClass, count, new java.util.SplittableRandom(seed * 31 + inputClass.ordinal()));
    }

    /** One input: laid out in a folder of its own, run, classified; the folder goes afterwards. */
    public Finding feed(HostileInput input) throws IOException {
        Path dir = Files.createDirectory(work.resolve(input.inputClass().label() + "-" + input.index() + "-" + ++fed));
        try {
            HostileInput.Invocation invocation = input.prepare().in(dir);
            Outcome.Run run = execute(invocation.args());
            return new Finding(input, invocation, run, Outcome.of(input.expect(), run, invocation));
        } finally {
            delete(dir);
        }
    }

    /** The CLI on {@code args}, as main runs it, on its own thread. */
    public Outcome.Run execute(List<String> args) {
        return execute(args, timeoutMillis);
    }

    private Outcome.Run execute(List<String> args, long timeoutMillis) {
        CapturedOutput output = new CapturedOutput();
        Throwable[] thrown = new Throwable[1];
        int[] exit = {-1};
        PrintWriter out = new PrintWriter(new OutputStreamWriter(output.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(output.err, StandardCharsets.UTF_8), true);
        Thread t = Thread.ofPlatform().name("colo4j-fuzz").daemon(true).unstarted(() -> {
            output.route();
            try {
                CommandLine cli = Colo4jCommand.commandLine();
                CommandLine.IExecutionExceptionHandler handler = cli.getExecutionExceptionHandler();
                cli.setExecutionExceptionHandler((ex, line, parsed) -> {
                    thrown[0] = ex;
                    return handler.handleExecutionException(ex, line, parsed);
                });
                cli.setOut(out);
                cli.setErr(err);
                exit[0] = cli.execute(args.toArray(String[]::new));
            } catch (Throwable e) { // an Error picocli does not catch: main's handler would have seen it
                thrown[0] = e;
                if (e instanceof OutOfMemoryError) {
                    exit[0] = 1;
                }
            }
        });
        t.start();
        try {
            t.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.flush();
        err.flush();
        if (t.isAlive()) {
            t.interrupt();
            return new Outcome.Run(-1, output.out(), output.err(), null, true);
        }
        return new Outcome.Run(exit[0], output.out(), output.err(), thrown[0], false);
    }

    private static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort: what a hung run still holds goes with the work folder at close
        }
    }

    @Override
    public void close() {
        streams.close();
        delete(work);
    }

    /** One input's result. */
    public record Finding(HostileInput input, HostileInput.Invocation invocation, Outcome.Run run, Outcome outcome) {
        /** In full: the input, the command line, the output, and for a crash the stack trace. */
        public String describe() {
            StringWriter s = new StringWriter();
            PrintWriter w = new PrintWriter(s);
            w.printf("%s: %s (exit %d)%n  command: colo4j %s%n", input, outcome.label(), run.exit(), String.join(" ", invocation.args()));
            if (outcome == Outcome.UNNAMED) {
                w.printf("  the message names none of: %s%n", invocation.culprits());
            }
            if (!run.err().isBlank()) {
                w.printf("  stderr: %s%n", tail(run.err()).strip().replace("\n", "\n    "));
            }
            if (!run.out().isBlank() && (run.err().isBlank() || outcome == Outcome.TRACE)) {
                w.printf("  stdout: %s%n", tail(run.out()).strip().replace("\n", "\n    "));
            }
            if (run.thrown() != null && (outcome == Outcome.TRACE || outcome == Outcome.OOM)) {
                run.thrown().printStackTrace(w);
            }
            w.flush();
            return s.toString();
        }

        private static String tail(String text) {
            return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
        }
    }
}

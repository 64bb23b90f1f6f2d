package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.cli.Colo4jCommand;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.io.SafeTensorsReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * {@code colo4j train} run in this JVM, and what a resumed run must show: that it started at the checkpoint's
 * step (what it printed) with the checkpoint's state (what it saves before training on). A fresh deterministic
 * run reproduces the same losses, so the losses alone cannot tell a resume from a run that ignored it.
 */
final class TrainRuns {
    /** The losses of losses.csv (step 0 first, restored ones included) and what the run printed. */
    record Run(List<Double> losses, String log) {}

    private TrainRuns() {}

    /** What a command did: its exit code, what it printed and its error lines. */
    record Attempt(int rc, String out, String err) {}

    /** {@code train} with {@code args}; fails unless it exits 0. */
    static Run train(Path save, List<String> args) throws IOException {
        List<String> all = new ArrayList<>(List.of("train"));
        all.addAll(args);
        all.addAll(List.of("--save", save.toString()));
        Attempt attempt = attempt(all);
        String log = attempt.out();
        assertThat(attempt.rc()).as("%s%n%s%s", String.join(" ", all), log, attempt.err()).isZero();
        List<Double> losses = Files.readAllLines(save.resolve("losses.csv")).stream().skip(1)
                .map(line -> Double.parseDouble(line.split(",")[1])).toList();
        return new Run(losses, log);
    }

    /** Runs a colo4j command in this JVM, capturing its standard output and error. */
    static Attempt attempt(List<String> args) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        PrintStream previousErr = System.err;
        int rc;
        try (PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);
             PrintStream err = new PrintStream(errors, true, StandardCharsets.UTF_8)) {
            System.setOut(out);
            System.setErr(err);
            CommandLine cli = Colo4jCommand.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            rc = cli.execute(args.toArray(String[]::new));
        } finally {
            System.setOut(previous);
            System.setErr(previousErr);
        }
        return new Attempt(rc, captured.toString(StandardCharsets.UTF_8), errors.toString(StandardCharsets.UTF_8));
    }

    /** The line a run resumed from {@code checkpoint} prints, naming the step it continues from. */
    static String resumedAt(Path checkpoint, long step) {
        return "resumed from " + checkpoint + " at step " + step;
    }

    /** The summary of a run whose first trained step is {@code first} and last {@code last}. */
    static String trainedSteps(long first, long last) {
        return "trained steps " + first + ".." + last + " in";
    }

    /**
     * {@code restored} (written by a run resumed from {@code saved} that trained no step) holds what {@code saved}
     * holds: every weight and AdamW moment bit for bit, the step, every parameter's optimizer step count and the
     * loss history. A loader that dropped any of it would write something else.
     */
    static void assertRestoredState(Path restored, Path saved) throws IOException {
        for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
            Map<String, float[]> expected = floats(saved.resolve(file));
            Map<String, float[]> actual = floats(restored.resolve(file));
            assertThat(actual.keySet()).as("tensors in %s", file).isEqualTo(expected.keySet());
            List<String> differ = expected.keySet().stream().filter(name -> !Arrays.equals(actual.get(name), expected.get(name))).toList();
            assertThat(differ).as("tensors of %s that differ from %s's", restored.resolve(file), saved).isEmpty();
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode expected = json.readTree(saved.resolve("trainer.json").toFile());
        JsonNode actual = json.readTree(restored.resolve("trainer.json").toFile());
        for (String field : List.of("step", "optimizer_steps", "losses", "lrs", "grad_norms")) {
            assertThat(actual.path(field)).as("trainer.json %s", field).isEqualTo(expected.path(field));
        }
        // parameters that never get a gradient (some families have them) keep a count of 0
        assertThat(expected.path("optimizer_steps").elements()).toIterable()
                .anySatisfy(count -> assertThat(count.asLong()).isEqualTo(expected.path("step").asLong()));
    }

    private static Map<String, float[]> floats(Path file) throws IOException {
        Map<String, float[]> out = new java.util.TreeMap<>();
        try (SafeTensorsReader reader = SafeTensorsReader.open(file)) {
            for (Map.Entry<String, Tensor> e : reader.readAll().entrySet()) {
                out.put(e.getKey(), e.getValue().toFloatArray());
            }
        }
        return out;
    }
}

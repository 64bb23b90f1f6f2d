package io.colo4j.cli;

import io.colo4j.cli.fuzz.FuzzCampaign;
import io.colo4j.cli.fuzz.FuzzReport;
import io.colo4j.cli.fuzz.InputClass;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/colo4j bench fuzz}: hostile inputs fed to the CLI in-process, counted by class and outcome. */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = {"Feeds --count seeded hostile inputs (safetensors, config.json, rules, data/tokens/tokenizer files, options, F16/BF16/F64 weights, checkpoints) to",
            "the CLI in this process, each within --timeout, and counts per class: refused (naming the culprit), accepted, hang, oom,",
            "trace (a stack trace or a crash), silent (an invalid input accepted), refused-valid, unnamed. Exit 1 on any failure."})
final class BenchFuzz implements Callable<Integer> {
    @Option(names = "--count", defaultValue = "1000", description = "Inputs in all, spread evenly over the classes (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--seed", defaultValue = "1", description = "The same seed gives the same inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--class", split = ",", description = "Only these classes: safetensors, config, rules, data, options, half, checkpoint (default: all).")
    List<String> classes;

    @Option(names = "--timeout", defaultValue = "10", description = "Seconds an input may take before it counts as a hang (default: ${DEFAULT-VALUE}).")
    double timeout;

    @Option(names = "--show", defaultValue = "5", description = "Failures printed in full (default: ${DEFAULT-VALUE}).")
    int show;

    @Override
    public Integer call() throws Exception {
        if (count < 1 || timeout <= 0 || !Double.isFinite(timeout)) {
            throw new IllegalArgumentException("--count must be >= 1 and --timeout > 0, got --count " + count + " --timeout " + timeout);
        }
        List<InputClass> chosen = classes == null ? Arrays.asList(InputClass.values()) : classes.stream().map(InputClass::of).toList();
        long start = System.nanoTime();
        FuzzReport report = FuzzCampaign.run(count, seed, chosen, (long) (timeout * 1000));
        System.out.printf(Locale.ROOT, "fuzz: %d inputs, seed %d, %.0f s timeout each, %.1f s in all%n", report.inputs(), seed, timeout,
                (System.nanoTime() - start) / 1e9);
        report.print(System.out, show);
        return report.failures().isEmpty() ? 0 : 1;
    }
}

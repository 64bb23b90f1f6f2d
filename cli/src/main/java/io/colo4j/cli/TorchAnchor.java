package io.colo4j.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the PyTorch reference script (../shared/reference/torch_gpt2.py) as the anchor of a benchmark. */
final class TorchAnchor {
    private static final Pattern RESULT = Pattern.compile("median_step_s ([0-9.]+) tokens_per_s ([0-9.]+)");

    private TorchAnchor() {}

    /** tokens/s of the reference at the same size and threads, or NaN (with a line saying why). */
    static double gpt2TokensPerSecond(String config, int batch, int seq, int steps, PrintStream out) throws Exception {
        Path script = locate();
        if (script == null) {
            out.println("torch anchor: ../shared/reference/torch_gpt2.py not found; skipped");
            return Double.NaN;
        }
        int[] size = switch (config) {
            case "small" -> new int[] {768, 12, 12};
            case "medium" -> new int[] {1024, 24, 16};
            case "tiny" -> new int[] {64, 2, 4};
            default -> null;
        };
        if (size == null) {
            out.println("torch anchor: no reference size for config " + config + "; skipped");
            return Double.NaN;
        }
        int threads = Runtime.getRuntime().availableProcessors();
        String vocab = config.equals("tiny") ? "256" : "50257";
        String positions = config.equals("tiny") ? "64" : "1024";
        for (String python : List.of(System.getenv().getOrDefault("COLO4J_PYTHON", "/usr/bin/python3"), "python3")) {
            List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--vocab", vocab, "--pos", positions,
                    "--embd", String.valueOf(size[0]), "--layers", String.valueOf(size[1]), "--heads", String.valueOf(size[2]),
                    "--seq", String.valueOf(seq), "--batch", String.valueOf(batch), "--steps", String.valueOf(steps),
                    "--threads", String.valueOf(threads)));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
            pb.environment().put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
            Process p;
            try {
                p = pb.start();
            } catch (java.io.IOException e) {
                continue;
            }
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.MINUTES);
            Matcher m = RESULT.matcher(text);
            if (p.exitValue() == 0 && m.find()) {
                out.printf("pytorch gpt2 %s (same size, %d threads): median step %s s (%s tokens/s)%n", config, threads, m.group(1), m.group(2));
                return Double.parseDouble(m.group(2));
            }
        }
        out.println("torch anchor: the reference script did not run (apt-get install python3-torch libopenblas0-pthread); skipped");
        return Double.NaN;
    }

    private static Path locate() {
        String home = System.getProperty("colo4j.home", System.getenv().getOrDefault("COLO4J_HOME", "."));
        for (Path dir = Path.of(home).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            for (Path candidate : List.of(dir.resolve("shared/reference/torch_gpt2.py"), dir.resolve("../shared/reference/torch_gpt2.py"))) {
                if (Files.isRegularFile(candidate)) {
                    return candidate.normalize();
                }
            }
        }
        return null;
    }
}

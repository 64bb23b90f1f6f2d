package io.colo4j.cli;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.opt.OptConfig;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a PyTorch reference script as the anchor of {@code bench train}: GPT-2 through
 * {@code ../shared/reference/torch_gpt2.py}, OPT and Llama through {@code tools/torch_opt.py} and
 * {@code tools/torch_llama.py}, every size taken from the config record being benchmarked. BERT and T5 have no
 * timing script ({@code tools/torch_bert.py} and {@code torch_t5.py} write test fixtures only); the anchor says so.
 */
final class TorchAnchor {
    private static final Pattern RESULT = Pattern.compile("median_step_s ([0-9.]+) tokens_per_s ([0-9.]+)");

    /**
     * Set on this machine kind for older OpenBLAS builds; they hold torch to a slower kernel, so the anchor runs
     * without them (the "unset for that command only") and, should OpenBLAS then fail, once more with them.
     */
    static final List<String> BLAS_PINS = List.of("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE");

    private TorchAnchor() {}

    /** A reference script (relative to a search root) and the size arguments that reproduce a config; or why there is none. */
    record Reference(String script, List<String> sizeArgs, String missing) {
        static Reference none(String why) {
            return new Reference(null, List.of(), why);
        }
    }

    /** The script and its size arguments for {@code config}, each derived from the record's fields. */
    static Reference reference(HfConfig config) {
        return switch (config) {
            case Gpt2Config g -> new Reference("shared/reference/torch_gpt2.py", args("--vocab", g.vocabSize(), "--pos", g.nPositions(),
                    "--embd", g.nEmbd(), "--layers", g.nLayer(), "--heads", g.nHead()), null);
            case OptConfig o when !o.enableBias() || o.removeFinalLayerNorm() ->
                    Reference.none("tools/torch_opt.py builds OPT with biases and its final LayerNorm only");
            case OptConfig o -> {
                List<String> a = args("--vocab", o.vocabSize(), "--pos", o.maxPositionEmbeddings(), "--hidden", o.hiddenSize(),
                        "--layers", o.numHiddenLayers(), "--heads", o.numAttentionHeads(), "--ffn", o.ffnDim(), "--proj", o.wordEmbedProjDim(),
                        "--pad", o.padTokenId());
                if (!o.doLayerNormBefore()) {
                    a.add("--post-ln");
                }
                yield new Reference("tools/torch_opt.py", a, null);
            }
            case LlamaConfig l when l.headDim() * l.numAttentionHeads() != l.hiddenSize() ->
                    Reference.none("tools/torch_llama.py takes head_dim = hidden_size / num_attention_heads only");
            case LlamaConfig l -> {
                List<String> a = args("--vocab", l.vocabSize(), "--pos", l.maxPositionEmbeddings(), "--hidden", l.hiddenSize(),
                        "--inter", l.intermediateSize(), "--layers", l.numHiddenLayers(), "--heads", l.numAttentionHeads(),
                        "--kv-heads", l.numKeyValueHeads());
                a.addAll(List.of("--rope-theta", Double.toString(l.ropeTheta()), "--eps", Float.toString(l.rmsNormEps())));
                yield new Reference("tools/torch_llama.py", a, null);
            }
            default -> Reference.none("no PyTorch timing script for " + config.format().modelType()
                    + " (tools/torch_bert.py and tools/torch_t5.py write test fixtures only)");
        };
    }

    private static List<String> args(Object... nameThenValue) {
        List<String> out = new ArrayList<>();
        for (Object o : nameThenValue) {
            out.add(String.valueOf(o));
        }
        return out;
    }

    /** tokens/s of the reference at the same size, window and threads, or NaN (with a line saying why). */
    static double tokensPerSecond(String label, HfConfig config, int batch, int seq, int steps, PrintStream out) throws Exception {
        Reference ref = reference(config);
        if (ref.script() == null) {
            out.println("torch anchor: " + ref.missing() + "; skipped");
            return Double.NaN;
        }
        Path script = locate(ref.script());
        if (script == null) {
            out.println("torch anchor: " + ref.script() + " not found (above " + home() + "); skipped");
            return Double.NaN;
        }
        int threads = CpuThreads.threads();
        boolean pinned = BLAS_PINS.stream().anyMatch(System.getenv()::containsKey);
        for (boolean unpinned : pinned ? new boolean[] {true, false} : new boolean[] {true}) {
            for (String python : List.of(System.getenv().getOrDefault("COLO4J_PYTHON", "/usr/bin/python3"), "python3")) {
                List<String> cmd = new ArrayList<>(List.of(python, script.toString()));
                cmd.addAll(ref.sizeArgs());
                cmd.addAll(args("--seq", seq, "--batch", batch, "--steps", steps, "--threads", threads));
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                Map<String, String> env = pb.environment();
                env.put("OMP_NUM_THREADS", String.valueOf(threads));
                env.put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
                List<String> removed = unpinned ? BLAS_PINS.stream().filter(v -> env.remove(v) != null).toList() : List.of();
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
                    out.printf("pytorch %s (%s, same sizes, window and %d threads%s): median step %s s (%s tokens/s)%n", label,
                            script.getFileName(), threads, removed.isEmpty() ? "" : "; " + String.join(", ", removed) + " unset for it",
                            m.group(1), m.group(2));
                    return Double.parseDouble(m.group(2));
                }
            }
        }
        out.println("torch anchor: " + script + " did not run (apt-get install python3-torch libopenblas0-pthread); skipped");
        return Double.NaN;
    }

    private static String home() {
        return System.getProperty("colo4j.home", System.getenv().getOrDefault("COLO4J_HOME", "."));
    }

    /** {@code relative} under the colo4j home, a folder above it, or a sibling of one ({@code ../shared}). */
    private static Path locate(String relative) {
        for (Path dir = Path.of(home()).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            for (Path candidate : List.of(dir.resolve(relative), dir.resolve("..").resolve(relative))) {
                if (Files.isRegularFile(candidate)) {
                    return candidate.normalize();
                }
            }
        }
        return null;
    }
}

package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Once compiled, a row kernel allocates (almost) nothing on the Java heap per call, also where C2's escape analysis
 * does not remove a temporary: layer norm's forward once wrote each row's statistics through {@code Tensor.set}, whose
 * varargs index is an int[] per row (196 KB per 4096-row call when not removed, seen as 66-381 KB in some processes),
 * which the garbage collector then paid for in page faults. The second test runs the kernels in a JVM without escape
 * analysis, where such a temporary is always allocated.
 */
class RowKernelHeapTest {
    /**
     * Per call of 64 rows of 256 (one range, run on the calling thread): a call's own few objects (its lambda, what it
     * captures, a sums array: 100-300 B) pass; a heap array per row (>= 1.5 KB) or a boxed vector per 16 floats fails.
     */
    static final long MAX_BYTES_PER_CALL = 512;
    private static final String REPORT = "heap bytes per call: ";

    @Test
    void compiledRowKernelsDoNotAllocatePerRow() {
        bestHeapPerCall(false).forEach((kernel, bytes) ->
                assertThat(bytes).as("heap bytes per warmed-up call of %s (64 x 256, one thread)", kernel)
                        .isLessThanOrEqualTo(MAX_BYTES_PER_CALL));
    }

    @Test
    void rowKernelsDoNotAllocatePerRowWithoutEscapeAnalysis() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(List.of(java.toString(), "-XX:-DoEscapeAnalysis", "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                RowKernelHeapTest.class.getName())).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("child JVM finished").isTrue();
        assertThat(child.exitValue()).as("child JVM's exit status; its output:%n%s", output).isZero();
        String report = output.lines().filter(l -> l.startsWith(REPORT)).findFirst().orElseThrow(
                () -> new AssertionError("no report in the child JVM's output:\n" + output));
        for (String entry : report.substring(REPORT.length()).split(", ")) {
            String[] kv = entry.split("=");
            assertThat(Long.parseLong(kv[1])).as("heap bytes per call of %s without escape analysis (64 x 256)", kv[0])
                    .isLessThanOrEqualTo(MAX_BYTES_PER_CALL);
        }
    }

    /** The child JVM's side: one line with each kernel's best heap bytes per call. */
    public static void main(String[] args) {
        StringBuilder line = new StringBuilder(REPORT);
        bestHeapPerCall(true).forEach((kernel, bytes) -> line.append(line.length() > REPORT.length() ? ", " : "")
                .append(kernel).append('=').append(bytes));
        System.out.println(line);
    }

    /**
     * Each kernel's least heap bytes per call over repeated measurements while C2 compiles (at most ~30 s each). With
     * {@code activations} also bias + gelu and its backward, measured only in a fresh JVM: in one that ran every
     * activation before (the test JVM), gelu's backward loop may still box a vector per 16 floats (80-160 KB per call
     * here), which is not fixed yet.
     */
    static Map<String, Long> bestHeapPerCall(boolean activations) {
        CpuBackend cpu = new CpuBackend();
        int rows = 64;
        int n = 256;
        Tensor x = Tensor.init(Init.uniform(1, -2, 2), rows, n);
        Tensor g = Tensor.init(Init.uniform(2, -1, 1), rows, n);
        Tensor y = Tensor.zeros(rows, n);
        Tensor dx = Tensor.zeros(rows, n);
        Tensor bias = Tensor.init(Init.uniform(3, -1, 1), n);
        Tensor gamma = Tensor.init(Init.uniform(4, 0.5f, 1.5f), n);
        Tensor beta = Tensor.zeros(n);
        Tensor gGamma = Tensor.zeros(n);
        Tensor gBeta = Tensor.zeros(n);
        Tensor mean = Tensor.zeros(rows);
        Tensor rstd = Tensor.zeros(rows);
        DropoutBits bits = DropoutBits.of(0.1f, 7);
        GlobalIndex index = GlobalIndex.whole(x.numel(), 0);
        Map<String, Runnable> kernels = new LinkedHashMap<>();
        kernels.put("layer norm", () -> cpu.layerNorm(x, gamma, beta, 1e-5f, y, mean, rstd));
        kernels.put("layer norm backward", () -> cpu.layerNormBackward(x, gamma, mean, rstd, g, dx, gGamma, gBeta));
        kernels.put("rms norm", () -> cpu.rmsNorm(x, gamma, 1e-5f, y, rstd));
        kernels.put("softmax backward", () -> cpu.softmaxBackward(y, g, 1f, dx));
        Tensor blocks = y.view(-1, 64, 64); // views made once: a view is a few heap objects of the caller's, not the kernel's
        Tensor blockGrads = g.view(-1, 64, 64);
        Tensor blockDx = dx.view(-1, 64, 64);
        kernels.put("causal softmax backward", () -> cpu.softmaxBackward(blocks, blockGrads, 0.125f, blockDx));
        if (activations) {
            kernels.put("bias gelu", () -> cpu.biasUnary(UnaryOp.GELU_TANH, x, bias, y));
            kernels.put("bias gelu backward", () -> cpu.biasUnaryBackward(UnaryOp.GELU_TANH, x, bias, g, dx));
        }
        kernels.put("dropout", () -> cpu.dropout(bits, index, x, y));
        kernels.put("bias dropout add", () -> cpu.biasDropoutAdd(x, bias, g, bits, index, y));
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Map<String, Long> best = new LinkedHashMap<>();
        kernels.forEach((name, kernel) -> {
            long least = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 30_000_000_000L; // C2 compiles in the background: give it time
            while (least > MAX_BYTES_PER_CALL && System.nanoTime() < deadline) {
                for (int i = 0; i < 500; i++) {
                    kernel.run();
                }
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 50; i++) {
                    kernel.run();
                }
                least = Math.min(least, (threads.getCurrentThreadAllocatedBytes() - before) / 50);
            }
            best.put(name, least);
        });
        return best;
    }
}

package io.colo4j.ops.bench;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Bandwidth of the fused row kernels, each as bytes it must read + write per call, beside the
 * bandwidth of copying the same number of bytes: a kernel at memory speed has a ratio near 1.
 */
public final class KernelBench {
    private KernelBench() {}

    public record Result(String kernel, double millis, double gigabytesPerSecond, double ratioToCopy) {}

    public static List<Result> run(int rows, int cols, int iterations, PrintStream out) {
        KernelBackend k = Backends.current();
        List<Result> results = new ArrayList<>();
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor x = Tensor.init(Init.uniform(1, -2, 2), rows, cols);
            Tensor g = Tensor.init(Init.uniform(2, -1, 1), rows, cols);
            Tensor y = Tensor.zeros(rows, cols);
            Tensor dx = Tensor.zeros(rows, cols);
            Tensor gamma = Tensor.ones(cols);
            Tensor beta = Tensor.zeros(cols);
            Tensor gGamma = Tensor.zeros(cols);
            Tensor gBeta = Tensor.zeros(cols);
            Tensor mean = Tensor.zeros(rows);
            Tensor rstd = Tensor.zeros(rows);
            long bytes = (long) rows * cols * Float.BYTES;
            MemorySegment src = x.data();
            MemorySegment dst = y.data();
            double copyMs = time(iterations, () -> MemorySegment.copy(src, 0, dst, 0, bytes));
            double copyGbs = 2.0 * bytes / copyMs / 1e6;
            out.printf("backend %s, %d x %d floats (%.1f MiB), %d threads%n", k.name(), rows, cols, bytes / 1048576.0,
                    io.colo4j.ops.kernel.cpu.CpuThreads.pool().getParallelism());
            out.printf("%-22s %9s %9s %9s%n", "kernel", "ms", "GB/s", "vs copy");
            out.printf("%-22s %9.3f %9.1f %9.2f%n", "memcpy (read+write)", copyMs, copyGbs, 1.0);
            results.add(new Result("memcpy", copyMs, copyGbs, 1.0));
            // bytes moved: inputs read + outputs written, the minimum any implementation must touch
            results.add(report(out, "softmax fwd", 2, bytes, copyGbs, time(iterations, () -> k.softmax(x, 1f, false, y))));
            results.add(report(out, "softmax bwd", 3, bytes, copyGbs, time(iterations, () -> k.softmaxBackward(y, g, 1f, dx))));
            results.add(report(out, "layernorm fwd", 2, bytes, copyGbs, time(iterations, () -> k.layerNorm(x, gamma, beta, 1e-5f, y, mean, rstd))));
            results.add(report(out, "layernorm bwd", 3, bytes, copyGbs,
                    time(iterations, () -> k.layerNormBackward(x, gamma, mean, rstd, g, dx, gGamma, gBeta))));
            results.add(report(out, "gelu fwd", 2, bytes, copyGbs, time(iterations, () -> k.unary(UnaryOp.GELU_TANH, x, y))));
            results.add(report(out, "gelu bwd", 3, bytes, copyGbs, time(iterations, () -> k.unaryBackward(UnaryOp.GELU_TANH, x, g, dx))));
            // dropout at p 0.1 drawn from the elements' indices; the fused op reads x and the residual, writes one tensor
            io.colo4j.ops.kernel.DropoutBits bits = io.colo4j.ops.kernel.DropoutBits.of(0.1f, 7);
            io.colo4j.ops.kernel.GlobalIndex index = io.colo4j.ops.kernel.GlobalIndex.whole(x.numel(), 0);
            results.add(report(out, "dropout fwd", 2, bytes, copyGbs, time(iterations, () -> k.dropout(bits, index, x, y))));
            results.add(report(out, "bias+dropout+add fwd", 3, bytes, copyGbs, time(iterations, () -> k.biasDropoutAdd(x, beta, g, bits, index, y))));
        }
        return results;
    }

    private static Result report(PrintStream out, String name, int tensorsTouched, long bytes, double copyGbs, double ms) {
        double gbs = tensorsTouched * (double) bytes / ms / 1e6;
        out.printf("%-22s %9.3f %9.1f %9.2f%n", name, ms, gbs, gbs / copyGbs);
        return new Result(name, ms, gbs, gbs / copyGbs);
    }

    /** Median milliseconds of {@code iterations} timed calls after as many warm-up calls. */
    static double time(int iterations, Runnable body) {
        for (int i = 0; i < Math.max(3, iterations); i++) {
            body.run();
        }
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[iterations / 2];
    }
}

package io.colo4j.ops.bench;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Bandwidth of the fused row kernels, each as bytes it must read + write per call, beside the
 * bandwidth of copying the same number of bytes: a kernel at memory speed has a ratio near 1. The copy is timed
 * afresh for each kernel, call for call in turn with it, so that each ratio compares two medians taken in the same
 * seconds (one copy timed at the start moved 2.2 to 4 ms between runs on a noisy machine, and every ratio with it).
 * Each row also shows the
 * Java heap a call allocates once warm: a kernel that boxes vectors (a call C2 did not inline) allocates tens of
 * bytes per float, which the garbage collector then pays for in page faults; a sound one allocates next to nothing.
 */
public final class KernelBench {
    private KernelBench() {}

    public record Result(String kernel, double millis, double gigabytesPerSecond, double ratioToCopy, long heapBytesPerCall) {}

    public static List<Result> run(int rows, int cols, int iterations, PrintStream out) {
        KernelBackend k = Backends.current();
        List<Result> results = new ArrayList<>();
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor x = Tensor.init(Init.uniform(1, -2, 2), rows, cols);
            Tensor g = Tensor.init(Init.uniform(2, -1, 1), rows, cols);
            Tensor y = Tensor.zeros(rows, cols);
            Tensor dx = Tensor.zeros(rows, cols);
            Tensor bias = Tensor.init(Init.uniform(3, -1, 1), cols);
            Tensor gamma = Tensor.ones(cols);
            Tensor beta = Tensor.zeros(cols);
            Tensor gGamma = Tensor.zeros(cols);
            Tensor gBeta = Tensor.zeros(cols);
            Tensor mean = Tensor.zeros(rows);
            Tensor rstd = Tensor.zeros(rows);
            long bytes = (long) rows * cols * Float.BYTES;
            MemorySegment src = x.data();
            // its own target: kernels read y and dx after writing them (the backward passes read y as probabilities)
            MemorySegment dst = Tensor.zeros(rows, cols).data();
            Runnable copier = () -> MemorySegment.copy(src, 0, dst, 0, bytes);
            Timing copy = time(iterations, copier);
            double copyMs = copy.millis();
            double copyGbs = 2.0 * bytes / copyMs / 1e6;
            out.printf("backend %s, %d x %d floats (%.1f MiB), %d threads%n", k.name(), rows, cols, bytes / 1048576.0,
                    io.colo4j.ops.kernel.cpu.CpuThreads.pool().getParallelism());
            out.printf("%-22s %9s %9s %9s %9s %14s %12s%n", "kernel", "ms", "GB/s", "copy ms", "vs copy", "heap B/call",
                    "cores busy");
            out.printf("%-22s %9.3f %9.1f %9.3f %9.2f %14d %12.2f%n", "memcpy (read+write)", copyMs, copyGbs, copyMs, 1.0,
                    copy.heapBytes(), copy.coresBusy());
            results.add(new Result("memcpy", copyMs, copyGbs, 1.0, copy.heapBytes()));
            // bytes moved: inputs read + outputs written, the minimum any implementation must touch
            results.add(report(out, "softmax fwd", 2, bytes, time(iterations, copier, () -> k.softmax(x, 1f, false, y))));
            results.add(report(out, "softmax bwd", 3, bytes, time(iterations, copier, () -> k.softmaxBackward(y, g, 1f, dx))));
            results.add(report(out, "layernorm fwd", 2, bytes, time(iterations, copier, () -> k.layerNorm(x, gamma, beta, 1e-5f, y, mean, rstd))));
            results.add(report(out, "layernorm bwd", 3, bytes,
                    time(iterations, copier, () -> k.layerNormBackward(x, gamma, mean, rstd, g, dx, gGamma, gBeta))));
            results.add(report(out, "gelu fwd", 2, bytes, time(iterations, copier, () -> k.unary(UnaryOp.GELU_TANH, x, y))));
            results.add(report(out, "gelu bwd", 3, bytes, time(iterations, copier, () -> k.unaryBackward(UnaryOp.GELU_TANH, x, g, dx))));
            results.add(report(out, "bias+gelu fwd", 2, bytes, time(iterations, copier, () -> k.biasUnary(UnaryOp.GELU_TANH, x, bias, y))));
            results.add(report(out, "bias+gelu bwd", 3, bytes,
                    time(iterations, copier, () -> k.biasUnaryBackward(UnaryOp.GELU_TANH, x, bias, g, dx))));
            // a causal row must read only its kept prefix (T (T + 1) / 2 of a block's T^2) and write the whole row
            int t = 64;
            double kept = (t + 1) / (2.0 * t);
            results.add(report(out, "causal softmax fwd", kept + 1, bytes,
                    time(iterations, copier, () -> k.softmax(x.view(-1, t, t), 0.125f, true, y.view(-1, t, t)))));
            k.softmax(x.view(-1, t, t), 0.125f, true, y.view(-1, t, t));
            results.add(report(out, "causal softmax bwd", 2 * kept + 1, bytes,
                    time(iterations, copier, () -> k.softmaxBackward(y.view(-1, t, t), g.view(-1, t, t), 0.125f, dx.view(-1, t, t)))));
            // dropout at p 0.1 drawn from the elements' indices; the fused op reads x and the residual, writes one tensor
            io.colo4j.ops.kernel.DropoutBits bits = io.colo4j.ops.kernel.DropoutBits.of(0.1f, 7);
            io.colo4j.ops.kernel.GlobalIndex index = io.colo4j.ops.kernel.GlobalIndex.whole(x.numel(), 0);
            results.add(report(out, "dropout fwd", 2, bytes, time(iterations, copier, () -> k.dropout(bits, index, x, y))));
            results.add(report(out, "bias+dropout+add fwd", 3, bytes, time(iterations, copier, () -> k.biasDropoutAdd(x, beta, g, bits, index, y))));
            // cross-entropy over x as logits: forward reads them (and writes a few floats per row), backward reads and writes
            int[] ids = new int[rows];
            for (int r = 0; r < rows; r++) {
                ids[r] = (r * 7919) % cols;
            }
            io.colo4j.tensor.IntTensor targets = io.colo4j.tensor.IntTensor.of(ids, rows);
            Tensor losses = Tensor.zeros(rows);
            Tensor lse = Tensor.zeros(rows);
            results.add(report(out, "cross-entropy fwd", 1, bytes,
                    time(iterations, copier, () -> k.crossEntropy(x, targets, -100, cols, losses, lse))));
            results.add(report(out, "cross-entropy bwd", 2, bytes,
                    time(iterations, copier, () -> k.crossEntropyBackward(x, targets, -100, cols, lse, 1f / rows, dx))));
        }
        return results;
    }

    private static Result report(PrintStream out, String name, double tensorsTouched, long bytes, Timing t) {
        double gbs = tensorsTouched * (double) bytes / t.millis() / 1e6;
        double copyGbs = 2.0 * bytes / t.anchorMillis() / 1e6;
        out.printf("%-22s %9.3f %9.1f %9.3f %9.2f %14d %12.2f%n", name, t.millis(), gbs, t.anchorMillis(), gbs / copyGbs,
                t.heapBytes(), t.coresBusy());
        return new Result(name, t.millis(), gbs, gbs / copyGbs, t.heapBytes());
    }

    /**
     * A kernel's median milliseconds per call, the Java heap bytes one call allocated, once warm, and the CPU time of
     * all threads over the wall time of the kernel's calls: a kernel at half its cores' speed shows whether its code is
     * slow (cores busy near the thread count) or a thread sat out (near 1). With an anchor, also the anchor's median
     * over calls made in turn with the kernel's.
     */
    record Timing(double millis, long heapBytes, double coresBusy, double anchorMillis) {}

    /**
     * Warm-up time per kernel: a fixed count of calls left cross-entropy forward in code C2 had not finished with
     * (5.6 ms per call with a thread idle a third of the time after 20 calls, 3.6 ms after 100), while a training run
     * calls every kernel thousands of times; the steady state is what it sees.
     */
    private static final long WARM_UP_NANOS = 1_000_000_000L;

    /**
     * Median of {@code iterations} timed calls after as many warm-up calls and at least {@link #WARM_UP_NANOS} of them;
     * heap bytes averaged over the timed ones.
     */
    static Timing time(int iterations, Runnable body) {
        return time(iterations, null, body);
    }

    /**
     * As {@link #time(int, Runnable)}, each timed call of {@code body} preceded by a timed call of {@code anchor} (when
     * not null); the heap and CPU figures count the body's calls only.
     */
    static Timing time(int iterations, Runnable anchor, Runnable body) {
        long warmUntil = System.nanoTime() + WARM_UP_NANOS;
        for (int i = 0; i < Math.max(3, iterations) || System.nanoTime() < warmUntil; i++) {
            body.run();
        }
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long heap = 0;
        long cpu = 0;
        long wall = 0;
        double[] ms = new double[iterations];
        double[] anchorMs = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            if (anchor != null) {
                long t0 = System.nanoTime();
                anchor.run();
                anchorMs[i] = (System.nanoTime() - t0) / 1e6;
            }
            // the heap counter is read innermost: reading the CPU times allocates
            long cpu0 = cpuNanos(threads);
            long heap0 = threads.getTotalThreadAllocatedBytes();
            long t0 = System.nanoTime();
            body.run();
            long t1 = System.nanoTime();
            heap += threads.getTotalThreadAllocatedBytes() - heap0;
            cpu += cpuNanos(threads) - cpu0;
            wall += t1 - t0;
            ms[i] = (t1 - t0) / 1e6;
        }
        Arrays.sort(ms);
        Arrays.sort(anchorMs);
        return new Timing(ms[iterations / 2], Math.max(0, heap) / Math.max(1, iterations),
                (double) cpu / Math.max(1, wall), anchorMs[iterations / 2]);
    }

    /** CPU time of every live thread (the JIT's too, quiet once warm). */
    private static long cpuNanos(java.lang.management.ThreadMXBean threads) {
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            sum += Math.max(0, threads.getThreadCpuTime(id));
        }
        return sum;
    }
}

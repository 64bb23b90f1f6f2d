package io.colo4j.ops.kernel.opencl;

import io.colo4j.ops.bench.GemmBench;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/colo4j bench gemm --backend opencl}: the OpenCL sgemm timed on device-resident tensors, then, in the
 * same run, the cpu backend's sgemm and torch.mm (through {@link GemmBench}), side by side; with the program's
 * build cost, cold and warm.
 */
public final class OpenClGemmBench {
    /** One size: opencl best/median ms and GFLOP/s beside the cpu backend and torch.mm (NaN when absent). */
    public record Result(int size, double bestMs, double medianMs, double gflops, double cpuGflops, double torchGflops) {}

    private OpenClGemmBench() {}

    public static List<Result> run(OpenClBackend cl, int[] sizes, int threads, int warmup, int iterations,
                                   boolean withTorchAnchor, PrintStream out) {
        int[] ns = sizes == null || sizes.length == 0 ? GemmBench.DEFAULT_SIZES : sizes.clone();
        for (int n : ns) {
            if (n < 1) {
                throw new IllegalArgumentException("bench gemm: sizes must be positive, got " + Arrays.toString(ns));
            }
        }
        if (warmup < 0 || iterations < 1) {
            throw new IllegalArgumentException("bench gemm: need warmup >= 0, iterations >= 1");
        }
        out.println("opencl device: " + cl.deviceDescription() + (cl.zeroCopy() ? ", zero-copy buffers" : ", device buffers"));
        out.printf(Locale.ROOT, "opencl program (%s): first build in this process %.0f ms; warm rebuild %.0f ms; "
                        + "cold build %.0f ms (forced by a unique build option, bypassing the driver's cache)%n",
                cl.buildOptions(), cl.programBuildMillis(), cl.rebuildProgramMillis(), coldBuildMillis(cl));
        List<double[]> timings = new ArrayList<>();
        for (int n : ns) {
            timings.add(time(cl, n, warmup, iterations));
        }
        out.println();
        out.println("cpu backend and torch.mm, same run:");
        List<GemmBench.Result> cpu = GemmBench.run(ns, threads, warmup, iterations, withTorchAnchor, out);
        Map<Integer, GemmBench.Result> bySize = new HashMap<>();
        for (GemmBench.Result r : cpu) {
            bySize.put(r.size(), r);
        }
        out.println();
        out.printf(Locale.ROOT, "sgemm float32 C = A @ B, square: opencl (%s) vs cpu backend (%d threads) vs torch.mm; best of %d%n",
                cl.deviceName(), cpu.isEmpty() ? threads : cpu.get(0).threads(), iterations);
        out.printf(Locale.ROOT, "%6s %10s %10s %13s %10s %12s %10s %10s%n", "size", "best ms", "median ms", "opencl GF/s",
                "cpu GF/s", "torch GF/s", "vs cpu", "vs torch");
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < ns.length; i++) {
            int n = ns[i];
            double[] ms = timings.get(i);
            double gflops = 2.0 * n * n * (double) n / (ms[0] * 1e6);
            GemmBench.Result c = bySize.get(n);
            double cg = c == null ? Double.NaN : c.gflops();
            double tg = c == null ? Double.NaN : c.torchGflops();
            Result r = new Result(n, ms[0], ms[1], gflops, cg, tg);
            results.add(r);
            out.printf(Locale.ROOT, "%6d %10.3f %10.3f %13.1f %10.1f %12s %10.2f %10s%n", n, ms[0], ms[1], gflops, cg,
                    Double.isNaN(tg) ? "-" : String.format(Locale.ROOT, "%.1f", tg), gflops / cg,
                    Double.isNaN(tg) ? "-" : String.format(Locale.ROOT, "%.2f", gflops / tg));
        }
        return results;
    }

    /** Builds the program with an option no earlier build used, so the driver must compile from scratch. */
    static double coldBuildMillis(OpenClBackend cl) {
        return cl.buildMillisWithOptions(cl.buildOptions() + " -DCOLO4J_COLD_BUILD=" + System.nanoTime());
    }

    /** {best, median} ms of one size on device-resident tensors (every call includes its clFinish). */
    private static double[] time(OpenClBackend cl, int n, int warmup, int iterations) {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor a = Tensor.init(Init.uniform(n, -1, 1), n, n);
            Tensor b = Tensor.init(Init.uniform(n + 1L, -1, 1), n, n);
            Tensor c = Tensor.zeros(n, n);
            long warmEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            for (int i = 0; i < Math.max(1, warmup) || (System.nanoTime() < warmEnd && i < 100); i++) {
                cl.matmul(a, b, c, 1f, 0f);
            }
            double[] ms = new double[iterations];
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                cl.matmul(a, b, c, 1f, 0f);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            return new double[] {ms[0], ms[iterations / 2]};
        }
    }
}

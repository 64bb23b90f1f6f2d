package io.colo4j.ops.bench;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.ops.kernel.cpu.FmaPeak;
import io.colo4j.ops.kernel.cpu.Sgemm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The body of {@code bin/colo4j bench gemm}: times square float32 {@link Sgemm#sgemm} and prints it beside this
 * machine's measured FMA peak ({@link FmaPeak}) and, when python3 with torch is present, torch.mm timed by
 * {@code tools/torch_mm.py} in the same run on the same number of threads.
 */
public final class GemmBench {
    /** Default square sizes. */
    public static final int[] DEFAULT_SIZES = {256, 512, 1024, 2048};

    /**
     * One size's timings: {@code gflops} from the best time; {@code ratioToPeak} against the FMA peak on the same
     * number of threads; {@code torchGflops} NaN when there is no torch anchor.
     */
    public record Result(int size, int threads, double bestMs, double medianMs, double gflops, double ratioToPeak,
                         double torchGflops) {
        /** sgemm over torch.mm, NaN without an anchor. */
        public double ratioToTorch() {
            return gflops / torchGflops;
        }
    }

    private GemmBench() {}

    /** Times sgemm for each size with {@code warmup} untimed and {@code iterations} timed calls, prints a table. */
    public static List<Result> run(int[] sizes, int threads, int warmup, int iterations, boolean withTorchAnchor,
                                   PrintStream out) {
        int[] ns = sizes == null || sizes.length == 0 ? DEFAULT_SIZES : sizes.clone();
        for (int n : ns) {
            if (n < 1) {
                throw new IllegalArgumentException("bench gemm: sizes must be positive, got " + Arrays.toString(ns));
            }
        }
        if (threads < 1 || warmup < 0 || iterations < 1) {
            throw new IllegalArgumentException("bench gemm: need threads >= 1, warmup >= 0, iterations >= 1; got threads="
                    + threads + ", warmup=" + warmup + ", iterations=" + iterations);
        }
        int pool = CpuThreads.threads();
        int t = threads;
        if (t > pool) {
            out.printf("note: %d threads asked, the kernel pool has %d (set -Dcolo4j.threads); using %d%n", t, pool, pool);
            t = pool;
        }
        FmaPeak.Peak peak = FmaPeak.measure(t);
        out.println(peak);
        double peakGflops = peak.ceilingGflops();

        warmUpJit(t);
        List<double[]> timings = new ArrayList<>();
        for (int n : ns) {
            timings.add(time(n, t, warmup, iterations));
        }
        Map<Integer, Double> torch = withTorchAnchor ? torchAnchor(ns, t, warmup, iterations, out) : Map.of();

        out.printf("sgemm float32 C = A @ B, square, %d thread%s, best of %d after %d warm-up%n",
                t, t == 1 ? "" : "s", iterations, warmup);
        boolean anchor = !torch.isEmpty();
        out.printf("%6s %10s %10s %9s %8s%s%n", "size", "best ms", "median ms", "GFLOP/s", "vs peak",
                anchor ? String.format(" %13s %9s", "torch GFLOP/s", "vs torch") : "");
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < ns.length; i++) {
            int n = ns[i];
            double[] ms = timings.get(i);
            double gflops = 2.0 * n * n * (double) n / (ms[0] * 1e6);
            double tg = torch.getOrDefault(n, Double.NaN);
            Result r = new Result(n, t, ms[0], ms[1], gflops, gflops / peakGflops, tg);
            results.add(r);
            out.printf("%6d %10.3f %10.3f %9.1f %8.2f%s%n", n, r.bestMs(), r.medianMs(), r.gflops(), r.ratioToPeak(),
                    anchor ? (Double.isNaN(tg) ? String.format(" %13s %9s", "-", "-")
                            : String.format(" %13.1f %9.2f", tg, r.ratioToTorch())) : "");
        }
        return results;
    }

    /**
     * Runs a mid-size sgemm until C2 has compiled the kernel: the Vector API is ~100x slower before that, and on a
     * busy machine compilation can take seconds. Stops when three calls in a row agree within 10%, or after 5 s.
     */
    private static void warmUpJit(int threads) {
        int n = 384;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = arena.allocate((long) n * n * Float.BYTES, 64);
            MemorySegment b = arena.allocate((long) n * n * Float.BYTES, 64);
            MemorySegment c = arena.allocate((long) n * n * Float.BYTES, 64);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            long min = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            double[] last = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
            for (int i = 0; System.nanoTime() < end; i++) {
                long t0 = System.nanoTime();
                Sgemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n, threads);
                last[i % 3] = System.nanoTime() - t0;
                double lo = Math.min(last[0], Math.min(last[1], last[2]));
                double hi = Math.max(last[0], Math.max(last[1], last[2]));
                if (System.nanoTime() > min && hi < 1.1 * lo) {
                    break;
                }
            }
        }
    }

    /** {best, median} milliseconds of one square size. */
    private static double[] time(int n, int threads, int warmup, int iterations) {
        long elems = (long) n * n;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = arena.allocate(elems * Float.BYTES, 64);
            MemorySegment b = arena.allocate(elems * Float.BYTES, 64);
            MemorySegment c = arena.allocate(elems * Float.BYTES, 64);
            SplittableRandom rnd = new SplittableRandom(n);
            for (long i = 0; i < elems; i++) {
                a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
                b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
            }
            // the warm-up calls, and at least 0.2 s of them (page faults, caches, this size's loop shapes)
            long warmEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            for (int i = 0; i < warmup || (System.nanoTime() < warmEnd && i < 1000); i++) {
                Sgemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n, threads);
            }
            double[] ms = new double[iterations];
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                Sgemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n, threads);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            return new double[] {ms[0], ms[iterations / 2]};
        }
    }

    /** torch.mm GFLOP/s per size from tools/torch_mm.py, or an empty map (after saying why) when unavailable. */
    static Map<Integer, Double> torchAnchor(int[] sizes, int threads, int warmup, int iterations, PrintStream out) {
        Path script = findScript();
        if (script == null) {
            out.println("torch anchor: tools/torch_mm.py not found (set -Dcolo4j.home=<repo>); skipped");
            return Map.of();
        }
        String python = findTorchPython();
        if (python == null) {
            out.println("torch anchor: no python3 with torch (tried $COLO4J_PYTHON, python3, /usr/bin/python3); skipped");
            return Map.of();
        }
        StringBuilder sizeList = new StringBuilder();
        for (int n : sizes) {
            sizeList.append(sizeList.isEmpty() ? "" : ",").append(n);
        }
        ProcessBuilder pb = new ProcessBuilder(python, script.toString(), "--sizes", sizeList.toString(),
                "--threads", Integer.toString(threads), "--warmup", Integer.toString(Math.max(1, warmup)),
                "--iterations", Integer.toString(iterations));
        for (String v : new String[] {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}) {
            pb.environment().put(v, Integer.toString(threads));
        }
        pb.redirectErrorStream(true);
        Map<Integer, Double> result = new HashMap<>();
        try {
            Process p = pb.start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length >= 4 && f[0].equals("size")) {
                        Map<String, String> kv = new HashMap<>();
                        for (int i = 0; i + 1 < f.length; i += 2) {
                            kv.put(f[i], f[i + 1]);
                        }
                        try {
                            result.put(Integer.parseInt(kv.get("size")), Double.parseDouble(kv.get("gflops")));
                        } catch (RuntimeException e) {
                            out.println("torch anchor: unparsable line: " + line);
                        }
                    } else if (line.startsWith("# torch ")) {
                        out.println("torch anchor: " + line.substring(2));
                    }
                }
            }
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                out.println("torch anchor: tools/torch_mm.py timed out");
            } else if (p.exitValue() != 0) {
                out.println("torch anchor: tools/torch_mm.py exited with " + p.exitValue());
            }
        } catch (IOException e) {
            out.println("torch anchor: could not run " + python + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return result;
    }

    /** The first of $COLO4J_PYTHON, python3, /usr/bin/python3 that can import torch. */
    private static String findTorchPython() {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("COLO4J_PYTHON");
        if (env != null && !env.isBlank()) {
            candidates.add(env);
        }
        candidates.add("python3");
        candidates.add("/usr/bin/python3");
        for (String py : candidates) {
            try {
                Process p = new ProcessBuilder(py, "-c", "import torch").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return py;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // not installed: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** tools/torch_mm.py under -Dcolo4j.home, $COLO4J_HOME, the working directory or the code's location, or their parents. */
    private static Path findScript() {
        List<Path> starts = new ArrayList<>();
        String home = System.getProperty("colo4j.home", System.getenv("COLO4J_HOME"));
        if (home != null && !home.isBlank()) {
            starts.add(Path.of(home));
        }
        starts.add(Path.of("").toAbsolutePath());
        try {
            var src = GemmBench.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                starts.add(Path.of(src.getLocation().toURI()).toAbsolutePath());
            }
        } catch (URISyntaxException | RuntimeException e) {
            // no usable code location
        }
        for (Path start : starts) {
            for (Path d = start; d != null; d = d.getParent()) {
                Path s = d.resolve("tools").resolve("torch_mm.py");
                if (Files.isRegularFile(s)) {
                    return s;
                }
            }
        }
        return null;
    }
}

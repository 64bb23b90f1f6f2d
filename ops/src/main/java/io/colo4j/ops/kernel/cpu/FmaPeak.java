package io.colo4j.ops.kernel.cpu;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures this machine's float32 FMA throughput with the Vector API: 12 independent accumulator chains of
 * {@code fma} on the preferred species, enough to hide the FMA latency on current x86 and ARM cores. This is the
 * ceiling any GEMM here can reach; {@code bench gemm} prints its results as a ratio of it.
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;
    private static volatile float sink;

    /** GFLOP/s (2 per lane per FMA) on one thread and on {@code threads} threads running at once. */
    public record Peak(double perThreadGflops, double allThreadsGflops, int threads) {
        /**
         * What the threads can do at most: the concurrent figure, or one thread's times the threads where that is more.
         * On a shared VM the concurrent timing reads low when a neighbour holds a core (113-194 GFLOP/s on 2 threads of
         * one Zen 3 within minutes, one thread 77-85 throughout), and a utilisation over a low peak reads high.
         */
        public double ceilingGflops() {
            return Math.max(allThreadsGflops, perThreadGflops * threads);
        }

        @Override
        public String toString() {
            return String.format("FMA peak %.1f GFLOP/s per thread, %.1f on %d threads (%d-lane %s)",
                    perThreadGflops, allThreadsGflops, threads, S.length(), S);
        }
    }

    private FmaPeak() {}

    /** Measures on one thread and on as many threads as the kernel pool has. About half a second. */
    public static Peak measure() {
        return measure(CpuThreads.threads());
    }

    /** Measures on one thread and on {@code threads} concurrent threads. */
    public static Peak measure(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("FmaPeak: threads must be >= 1, got " + threads);
        }
        warmUp();
        double one = 0;
        for (int i = 0; i < 5; i++) {
            one = Math.max(one, timeOne(ITERATIONS));
        }
        double all = threads == 1 ? one : 0;
        if (threads > 1) {
            for (int i = 0; i < 5; i++) {
                all = Math.max(all, timeConcurrent(threads, ITERATIONS));
            }
        }
        return new Peak(one, all, threads);
    }

    /** Iterations of 12 FMAs per timed run: 2e7 * 12 * 16 * 2 = 7.7 GFLOP with 16 lanes, ~60 ms at peak. */
    private static final long ITERATIONS = 20_000_000L;

    private static void warmUp() {
        for (int i = 0; i < 20; i++) {
            sink += loop(200_000);
        }
    }

    private static double timeOne(long iterations) {
        long t0 = System.nanoTime();
        sink += loop(iterations);
        return flops(iterations) / (System.nanoTime() - t0);
    }

    private static double timeConcurrent(int threads, long iterations) {
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = Thread.ofPlatform().daemon().name("colo4j-fma-peak-" + t).start(() -> {
                try {
                    start.await();
                } catch (InterruptedException | BrokenBarrierException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                sink += loop(iterations);
            });
        }
        long t0;
        try {
            start.await();
            t0 = System.nanoTime();
            for (Thread w : workers) {
                w.join();
            }
        } catch (InterruptedException | BrokenBarrierException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("FmaPeak interrupted", e);
        }
        return threads * flops(iterations) / (System.nanoTime() - t0);
    }

    private static double flops(long iterations) {
        return (double) iterations * CHAINS * S.length() * 2;
    }

    /**
     * 12 independent FMA chains; the result depends on every chain so nothing is dead code. The chains are arguments,
     * never receivers, as {@link Vec#ONE} explains: a virtual call on one boxed it in some processes, and the peak read
     * low.
     */
    static float loop(long iterations) {
        FloatVector x = FloatVector.broadcast(S, 0.999999f);
        FloatVector y = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 1f);
        FloatVector c1 = c0.add(1f);
        FloatVector c2 = c0.add(2f);
        FloatVector c3 = c0.add(3f);
        FloatVector c4 = c0.add(4f);
        FloatVector c5 = c0.add(5f);
        FloatVector c6 = c0.add(6f);
        FloatVector c7 = c0.add(7f);
        FloatVector c8 = c0.add(8f);
        FloatVector c9 = c0.add(9f);
        FloatVector c10 = c0.add(10f);
        FloatVector c11 = c0.add(11f);
        for (long i = 0; i < iterations; i++) {
            c0 = x.fma(c0, y);
            c1 = x.fma(c1, y);
            c2 = x.fma(c2, y);
            c3 = x.fma(c3, y);
            c4 = x.fma(c4, y);
            c5 = x.fma(c5, y);
            c6 = x.fma(c6, y);
            c7 = x.fma(c7, y);
            c8 = x.fma(c8, y);
            c9 = x.fma(c9, y);
            c10 = x.fma(c10, y);
            c11 = x.fma(c11, y);
        }
        return Vec.ONE.mul(c0).add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** Prints the peak: {@code java --add-modules jdk.incubator.vector ... FmaPeak [threads]}. */
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : CpuThreads.threads();
        System.out.println(measure(threads));
    }
}

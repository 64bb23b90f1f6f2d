package io.colo4j.zoo.train;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.ops.kernel.cpu.FmaPeak;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.sizing.ModelFlops;
import java.util.Locale;

/**
 * Model FLOPs utilisation: the model FLOPs a run's tokens/s stand for ({@link ModelFlops}) over the float32 FMA
 * peak of the cores it runs on ({@link FmaPeak.Peak#ceilingGflops()} on the kernel pool's threads, {@code colo4j.threads}, default every
 * core: in-JVM ranks share that pool). Under mpirun on several machines the peak is still one machine's.
 *
 * @param flopsPerToken model FLOPs per token of the run's window
 * @param peakGflops    the measured FMA peak, GFLOP/s
 * @param threads       the threads it was measured on
 */
public record Mfu(double flopsPerToken, double peakGflops, int threads) {
    private static volatile FmaPeak.Peak machine;

    public Mfu {
        if (!(flopsPerToken > 0) || !(peakGflops > 0)) {
            throw new IllegalArgumentException("MFU needs positive FLOPs per token and peak, got " + flopsPerToken + ", " + peakGflops);
        }
    }

    /** For {@code config} trained on windows of {@code seq} tokens, on this machine's measured peak. */
    public static Mfu of(HfConfig config, int seq) {
        FmaPeak.Peak peak = machinePeak();
        return new Mfu(ModelFlops.of(config, seq).perToken(), peak.ceilingGflops(), peak.threads());
    }

    /** The FMA peak over the kernel pool's threads, measured once per process (about half a second). */
    public static FmaPeak.Peak machinePeak() {
        FmaPeak.Peak p = machine;
        if (p == null) {
            synchronized (Mfu.class) {
                p = machine;
                if (p == null) {
                    p = FmaPeak.measure(CpuThreads.threads());
                    machine = p;
                }
            }
        }
        return p;
    }

    /** The utilisation at {@code tokensPerSecond}. */
    public double at(double tokensPerSecond) {
        return tokensPerSecond * flopsPerToken / (peakGflops * 1e9);
    }

    /** What the figure is measured against, for a bench's header line. */
    public String describe() {
        return String.format(Locale.ROOT, "MFU = tokens/s x %.3g model FLOPs per token / FMA peak %.1f GFLOP/s on %d threads",
                flopsPerToken, peakGflops, threads);
    }
}

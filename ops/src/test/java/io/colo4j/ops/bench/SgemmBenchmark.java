package io.colo4j.ops.bench;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.ops.kernel.cpu.Sgemm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Square float32 sgemm, C = A @ B. Run with {@code bin/jmh SgemmBenchmark} (add {@code -p threads=1} for one thread).
 * GFLOP/s = 2 * size^3 / (ms/op * 1e6): 1024 at 10 ms/op is 215 GFLOP/s, 2048 at 80 ms/op is 215.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SgemmBenchmark {
    @Param({"1024", "2048"})
    public int size;

    /** Kernel threads; 0 = the whole pool. */
    @Param({"0"})
    public int threads;

    private Arena arena;
    private MemorySegment a;
    private MemorySegment b;
    private MemorySegment c;
    private int t;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        long elems = (long) size * size;
        a = arena.allocate(elems * Float.BYTES, 64);
        b = arena.allocate(elems * Float.BYTES, 64);
        c = arena.allocate(elems * Float.BYTES, 64);
        SplittableRandom rnd = new SplittableRandom(size);
        for (long i = 0; i < elems; i++) {
            a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
            b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
        }
        t = threads <= 0 ? CpuThreads.threads() : threads;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment sgemm() {
        Sgemm.sgemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size, t);
        return c;
    }
}

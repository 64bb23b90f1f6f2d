package io.colo4j.ops.bench;

import io.colo4j.ops.F;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * What dispatch costs per op: the same tiny elementwise add as a bare kernel call, as the serial
 * operator (allocation + autograd bookkeeping), and dispatched on ColoTensors (rule lookup, spec
 * checks, output labelling), all timed in one run.
 */
public final class DispatchBench {
    private DispatchBench() {}

    public record Result(String path, double nanosPerOp) {}

    public static List<Result> run(int size, int iterations, PrintStream out) {
        List<Result> results = new ArrayList<>();
        Tensor a = Tensor.init(Init.uniform(1, -1, 1), size, size);
        Tensor b = Tensor.init(Init.uniform(2, -1, 1), size, size);
        Tensor c = Tensor.zeros(size, size);
        results.add(new Result("bare kernel", time(iterations, () -> {
            Backends.current().binary(BinaryOp.ADD, a, b, c);
            return c;
        })));
        results.add(new Result("serial F.add", time(iterations, () -> F.add(a, b))));
        for (int tp : new int[] {1, 2}) {
            List<Double> perRank = ThreadWorld.call(tp, comm -> {
                DistContext ctx;
                try (InitContext init = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                    ctx = init.context();
                }
                Tensor ra = ColoTensor.replicate(a, ctx);
                Tensor rb = ColoTensor.replicate(b, ctx);
                Tensor sa = ColoTensor.distribute(a, DistSpec.shard(1, tp), ctx);
                Tensor sb = ColoTensor.distribute(b, DistSpec.shard(1, tp), ctx);
                double replicated = time(iterations, () -> F.add(ra, rb));
                double sharded = time(iterations, () -> F.add(sa, sb));
                return comm.rank() == 0 ? replicated * 1e6 + sharded : 0.0;
            });
            double packed = perRank.get(0);
            double replicated = Math.floor(packed / 1e6);
            double sharded = packed - replicated * 1e6;
            results.add(new Result("dispatched F.add, tp=" + tp + ", replicated", replicated));
            results.add(new Result("dispatched F.add, tp=" + tp + ", sharded", sharded));
        }
        double serial = results.get(1).nanosPerOp();
        out.printf("%d x %d float32 add, %d iterations, median of 5 rounds%n", size, size, iterations);
        out.printf("%-40s %10s %12s%n", "path", "ns/op", "vs serial");
        for (Result r : results) {
            out.printf("%-40s %10.0f %+11.0f%n", r.path(), r.nanosPerOp(), r.nanosPerOp() - serial);
        }
        return results;
    }

    /** Median over 5 rounds of the mean time per call, each round in its own memory scope. */
    private static double time(int iterations, Supplier<Tensor> op) {
        double[] rounds = new double[5];
        for (int round = -2; round < rounds.length; round++) {
            try (MemoryScope scope = MemoryScope.open()) {
                long t0 = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    op.get();
                }
                if (round >= 0) {
                    rounds[round] = (System.nanoTime() - t0) / (double) iterations;
                }
            }
        }
        Arrays.sort(rounds);
        return Math.round(rounds[rounds.length / 2]);
    }
}

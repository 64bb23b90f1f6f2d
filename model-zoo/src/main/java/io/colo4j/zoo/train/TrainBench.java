package io.colo4j.zoo.train;

import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.GradClip;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicators;
import io.colo4j.tensor.comm.RankFunction;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * Times GPT-2 training steps (forward, backward, clip, AdamW) at a given tp on in-JVM ranks, and
 * measures each rank's long-lived bytes (parameters + gradients + optimizer state), so the figures can
 * be set beside the PyTorch reference script run on the same machine.
 */
public final class TrainBench {
    private TrainBench() {}

    public record Result(int tp, double medianStepSeconds, double tokensPerSecond, long stateBytesPerRank, List<Double> stepSeconds) {}

    /**
     * Times {@code steps} steps at {@code tp}: on in-JVM ranks, or under mpirun on the MPI world (which must have
     * tp processes); returns rank 0's result (null on the other MPI ranks, which print nothing).
     */
    public static Result run(String config, int tp, int batch, int seq, int steps, PrintStream out) {
        Gpt2Config cfg = Gpt2Config.NAMED.get(config).withDropout(0f);
        int[] ids = new int[batch * seq];
        int[] targets = new int[batch * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) ((i * 2654435761L) % cfg.vocabSize());
            targets[i] = (int) ((i * 40503L + 17) % cfg.vocabSize());
        }
        IntTensor x = IntTensor.of(ids, batch, seq);
        IntTensor y = IntTensor.of(targets, batch, seq);
        long before = MemoryStats.liveBytes();
        RankFunction<double[]> rank = comm -> {
            Gpt2Model model;
            if (tp == 1) {
                model = new Gpt2Model(cfg, 1);
            } else {
                try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                    model = new Gpt2Model(cfg, 1);
                }
                ModelZoo.family("gpt2").rules().apply(model);
            }
            AdamW adam = new AdamW(model.namedParameters(), AdamW.Options.defaults(1e-4));
            List<io.colo4j.tensor.nn.Parameter> params = model.parameters();
            List<io.colo4j.tensor.nn.Parameter> counted = params.stream()
                    .filter(p -> tp == 1 || !(p instanceof ColoParameter c) || !c.isReplicated() || comm.rank() == 0).toList();
            Tensor sum = Tensor.zeros(1);
            double[] times = new double[steps + 1];
            for (int s = 0; s < steps; s++) {
                long t0 = System.nanoTime();
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor loss = model.loss(x, y);
                    loss.backward();
                }
                GradClip.clip(counted, params, 1.0, local -> {
                    if (tp == 1) {
                        return local;
                    }
                    sum.set((float) local, 0);
                    comm.allReduce(sum);
                    return sum.get(0);
                });
                adam.step();
                if (s == steps - 1) {
                    comm.barrier();
                    times[steps] = MemoryStats.liveBytes();
                    comm.barrier();
                }
                adam.zeroGrad();
                times[s] = (System.nanoTime() - t0) / 1e9;
            }
            return times;
        };
        // under mpirun each process is one rank (its memory is the rank's); otherwise tp threads share the JVM
        boolean mpi = Communicators.underMpi();
        double[][] rank0 = new double[1][];
        Communicators.launch(tp, comm -> {
            if (comm.size() != tp) {
                throw new IllegalArgumentException("bench train under mpirun: started " + comm.size()
                        + " processes but --tp " + tp + " needs one per rank; give a single --tp equal to -np");
            }
            double[] t = rank.call(comm);
            if (comm.rank() == 0) {
                rank0[0] = t;
            }
        });
        if (rank0[0] == null) {
            return null;
        }
        double[] times = rank0[0];
        long live = ((long) times[steps] - before) * (mpi ? tp : 1);
        double[] timed = Arrays.copyOfRange(times, steps > 1 ? 1 : 0, steps);
        Arrays.sort(timed);
        double median = timed[timed.length / 2];
        Result r = new Result(tp, median, batch * seq / median, live / tp,
                Arrays.stream(Arrays.copyOf(times, steps)).boxed().toList());
        out.printf("colo4j gpt2 %s tp=%d%s: median step %.2f s (%.1f tokens/s) over steps 2..%d; steps %s s; "
                        + "parameters + gradients + AdamW state per rank %.1f MiB%n",
                config, tp, mpi ? " (mpirun, one process per rank)" : " (in-JVM ranks)", median, r.tokensPerSecond(), steps, r.stepSeconds().stream().map(v -> String.format("%.2f", v)).toList(),
                r.stateBytesPerRank() / 1048576.0);
        return r;
    }
}

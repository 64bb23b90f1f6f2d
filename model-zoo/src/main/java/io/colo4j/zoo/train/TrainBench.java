package io.colo4j.zoo.train;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.ProfiledBackend;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.GradClip;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.comm.Communicators;
import io.colo4j.tensor.comm.ProfiledCommunicator;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.profile.ProfileTable;
import io.colo4j.tensor.profile.StepProfile;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times training steps (forward, backward, clip, AdamW) of any zoo model at a given tp on in-JVM ranks (or the
 * MPI world), and measures each rank's long-lived bytes (parameters + gradients + optimizer state), so the figures
 * can be set beside the PyTorch reference script run on the same machine. Reports tokens/s, MFU ({@link Mfu}), the
 * max/min step time of steps 2..6 (how steady a step is) and, with {@code profile}, where a step's time goes
 * ({@link StepProfile}, over steps 2..n on every rank).
 */
public final class TrainBench {
    private TrainBench() {}

    /** The steps whose max/min ratio tells how steady a step is: 2..6 (1-based), the first being warm-up. */
    public static final int STEADY_LAST_STEP = 6;

    /**
     * What to run.
     *
     * @param model   the zoo family ({@code gpt2}, {@code opt}, {@code llama}, {@code bert}, {@code t5})
     * @param config  one of its named configs
     * @param seq     tokens per window; null: min(128, the model's positions)
     * @param profile also break each step's time down by section
     * @param sequenceParallel the family's rules with sequence parallelism on
     * @param recompute activations recomputed in backward
     */
    public record Options(String model, String config, int tp, int batch, Integer seq, int steps, boolean profile,
                          boolean sequenceParallel, Recompute recompute) {
        public Options {
            if (tp < 1 || batch < 1 || steps < 1 || (seq != null && seq < 1)) {
                throw new IllegalArgumentException("bench train: tp, batch, seq and steps must be >= 1, got tp=" + tp + " batch=" + batch
                        + " seq=" + seq + " steps=" + steps);
            }
            java.util.Objects.requireNonNull(recompute, "recompute");
        }

        /** Without sequence parallelism or recompute. */
        public Options(String model, String config, int tp, int batch, Integer seq, int steps, boolean profile) {
            this(model, config, tp, batch, seq, steps, profile, false, Recompute.NONE);
        }
    }

    /**
     * Rank 0's figures.
     *
     * @param stepSeconds   every step's time, the first (warm-up) included
     * @param mfu           model FLOPs utilisation at {@link #tokensPerSecond}
     * @param profile       with {@link Options#profile}: each rank's section totals over steps 2..n, else empty
     * @param profiledNanos each rank's step time summed over the same steps
     */
    public record Result(int tp, double medianStepSeconds, double tokensPerSecond, long stateBytesPerRank, List<Double> stepSeconds,
                         double mfu, List<Map<String, StepProfile.Totals>> profile, long[] profiledNanos, long activationPeakBytes) {
        /** Slowest over fastest step of steps 2..6 (or as many as ran); NaN with fewer than 2 steps. */
        public double maxOverMinStep() {
            List<Double> steady = stepSeconds.subList(Math.min(1, stepSeconds.size()), Math.min(STEADY_LAST_STEP, stepSeconds.size()));
            if (steady.isEmpty()) {
                return Double.NaN;
            }
            return steady.stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                    / steady.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        }
    }

    /** The config {@code bench train} runs: the named one without dropout. */
    public static HfConfig config(Options o) {
        HfFamilyOps hf = ModelZoo.family(o.model()).requireHf();
        return hf.withDropout(hf.config(o.config()), 0f);
    }

    /** The window length: {@link Options#seq}, or min(128, the model's positions); fails naming both when too long. */
    public static int seq(Options o) {
        HfConfig cfg = config(o);
        int seq = o.seq() != null ? o.seq() : Math.min(128, cfg.maxPositions());
        if (seq > cfg.maxPositions()) {
            throw new IllegalArgumentException("bench train: --seq " + seq + " is longer than " + o.model() + " " + o.config() + "'s "
                    + cfg.maxPositions() + " positions");
        }
        return seq;
    }

    /**
     * Times {@code o.steps()} steps at {@code o.tp()}: on in-JVM ranks, or under mpirun on the MPI world (which must
     * have tp processes); returns rank 0's result (null on the other MPI ranks, which print nothing).
     */
    public static Result run(Options o, PrintStream out) {
        ModelZoo.Family family = ModelZoo.family(o.model()).withSequenceParallel(o.sequenceParallel());
        HfFamilyOps hf = family.requireHf();
        HfConfig cfg = config(o);
        int seq = seq(o);
        int tp = o.tp();
        int steps = o.steps();
        Mfu mfu = Mfu.of(cfg, seq);
        int[] ids = new int[o.batch() * seq];
        int[] targets = new int[o.batch() * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) ((i * 2654435761L) % cfg.vocabSize());
            targets[i] = (int) ((i * 40503L + 17) % cfg.vocabSize());
        }
        IntTensor x = IntTensor.of(ids, o.batch(), seq);
        IntTensor y = IntTensor.of(targets, o.batch(), seq);
        long before = MemoryStats.liveBytes();
        MemoryStats.resetPeak();
        boolean mpi = Communicators.underMpi();
        RankRun[] ranks = new RankRun[tp];
        StepProfile.enable(o.profile());
        try {
            Communicators.launch(tp, world -> {
                if (world.size() != tp) {
                    throw new IllegalArgumentException("bench train under mpirun: started " + world.size()
                            + " processes but --tp " + tp + " needs one per rank; give a single --tp equal to -np");
                }
                Communicator comm = o.profile() ? ProfiledCommunicator.wrap(world) : world;
                try (var backend = Backends.use(o.profile() ? ProfiledBackend.wrap(Backends.current()) : Backends.current())) {
                    ranks[comm.rank()] = rankRun(family, hf, cfg, comm, x, y, steps, o.recompute());
                }
            });
        } finally {
            StepProfile.enable(false);
        }
        if (ranks[0] == null) {
            return null;
        }
        double[] times = ranks[0].seconds();
        long live = (ranks[0].liveBytes() - before) * (mpi ? tp : 1);
        double[] timed = Arrays.copyOfRange(times, steps > 1 ? 1 : 0, steps);
        Arrays.sort(timed);
        double median = timed[timed.length / 2];
        double tokensPerSecond = o.batch() * seq / median;
        List<Map<String, StepProfile.Totals>> profile = Arrays.stream(ranks).filter(r -> r != null && o.profile())
                .map(RankRun::profile).toList();
        long[] profiled = Arrays.stream(ranks).filter(r -> r != null && o.profile()).mapToLong(RankRun::profiledNanos).toArray();
        Result r = new Result(tp, median, tokensPerSecond, live / tp, Arrays.stream(times).boxed().toList(), mfu.at(tokensPerSecond),
                profile, profiled, ranks[0].activationPeak());
        int last = Math.min(STEADY_LAST_STEP, steps);
        out.printf(Locale.ROOT, "colo4j %s %s tp=%d%s, batch %d x seq %d: median step %.3f s (%.1f tokens/s, MFU %.3f) over steps 2..%d;"
                        + " max/min step %.2f over steps 2..%d; steps %s s; parameters + gradients + AdamW state per rank %.1f MiB%n",
                o.model(), o.config(), tp, mpi ? " (mpirun, one process per rank)" : " (in-JVM ranks)", o.batch(), seq, median,
                tokensPerSecond, r.mfu(), steps, r.maxOverMinStep(), last,
                r.stepSeconds().stream().map(v -> String.format(Locale.ROOT, "%.3f", v)).toList(), r.stateBytesPerRank() / 1048576.0);
        out.printf("  %s%s%n", MemoryStats.summary(mpi ? 1 : tp), ranks[0].counters() == null ? "" : "; " + ranks[0].counters());
        out.printf(Locale.ROOT, "  activation peak per rank (rank 0, step-scoped memory of forward and backward, --recompute %s%s): %.1f MiB%n",
                o.recompute().optionName(), o.sequenceParallel() ? ", sequence parallel" : "", r.activationPeakBytes() / 1048576.0);
        if (o.profile() && steps > 1 && !mpi) {
            out.print(ProfileTable.format(profile, steps - 1, profiled));
        } else if (o.profile()) {
            out.println(mpi ? "profile: per-rank tables need in-JVM ranks (under mpirun each process holds only its own)"
                    : "profile: needs --steps >= 2 (the first step is warm-up)");
        }
        return r;
    }

    /** One rank's step times (seconds), its live bytes after the last update, and its profile over steps 2..n. */
    private record RankRun(double[] seconds, long liveBytes, Map<String, StepProfile.Totals> profile, long profiledNanos,
                           StepCounters counters, long activationPeak) {}

    private static RankRun rankRun(ModelZoo.Family family, HfFamilyOps hf, HfConfig cfg, Communicator comm, IntTensor x, IntTensor y,
                                   int steps, Recompute recompute) {
        int tp = comm.size();
        Module model = family.buildOnRank(cfg, 1, comm);
        LanguageModel lm = hf.languageModel(model);
        AdamW adam = new AdamW(model.namedParameters(), AdamW.Options.defaults(1e-4));
        List<Parameter> params = model.parameters();
        List<Parameter> counted = params.stream()
                .filter(p -> tp == 1 || !(p instanceof ColoParameter c) || !c.isReplicated() || comm.rank() == 0).toList();
        Tensor sum = Tensor.zeros(1);
        double[] times = new double[steps];
        long live = 0;
        long profiledNanos = 0;
        StepCounters perStep = comm.rank() == 0 ? StepCounters.start() : null;
        long activationPeak = 0;
        for (int s = 0; s < steps; s++) {
            if (s == 1) {
                StepProfile.reset(); // the first step is warm-up
            }
            long t0 = System.nanoTime();
            int step = StepProfile.root(StepProfile.STEP);
            MemoryStats.resetStepPeak();
            MemoryScope scope = MemoryScope.open();
            try (var mode = Recompute.use(recompute)) {
                int forward = StepProfile.enter(StepProfile.FORWARD);
                Tensor loss = lm.loss(x, y, s);
                StepProfile.exit(forward);
                int backward = StepProfile.enter(StepProfile.BACKWARD);
                loss.backward();
                StepProfile.exit(backward);
            } finally {
                int free = StepProfile.enter(StepProfile.ALLOCATOR);
                scope.close();
                StepProfile.exit(free);
            }
            activationPeak = Math.max(activationPeak, MemoryStats.stepPeakBytes());
            if (io.colo4j.tensor.StepCensus.ON && comm.rank() == 0 && s == steps - 1) {
                System.err.print(io.colo4j.tensor.StepCensus.peakReport(40)); // -Dcolo4j.memory.census=true
            }
            int optimizer = StepProfile.enter(StepProfile.OPTIMIZER);
            GradClip.clip(counted, params, 1.0, local -> {
                if (tp == 1) {
                    return local;
                }
                sum.set((float) local, 0);
                comm.allReduce(sum);
                return sum.get(0);
            });
            adam.step();
            StepProfile.exit(optimizer);
            long unmeasured = 0;
            if (s == steps - 1) {
                // the live bytes with gradients still held, outside the timed step and its profile
                StepProfile.exit(step);
                long b0 = System.nanoTime();
                comm.barrier();
                live = MemoryStats.liveBytes();
                comm.barrier();
                unmeasured = System.nanoTime() - b0;
                step = StepProfile.root(StepProfile.STEP);
            }
            int zero = StepProfile.enter(StepProfile.OPTIMIZER);
            adam.zeroGrad();
            StepProfile.exit(zero);
            StepProfile.exit(step);
            long elapsed = System.nanoTime() - t0 - unmeasured;
            times[s] = elapsed / 1e9;
            if (s >= 1) {
                profiledNanos += elapsed;
            }
            if (perStep != null) {
                perStep.stepDone();
            }
        }
        MemoryScope.releaseCachedMemory(); // so the next --tp starts from what it reserves itself
        return new RankRun(times, live, StepProfile.snapshot(), profiledNanos, perStep, activationPeak);
    }
}

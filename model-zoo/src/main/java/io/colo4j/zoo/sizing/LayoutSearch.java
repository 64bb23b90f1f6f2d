package io.colo4j.zoo.sizing;

import io.colo4j.rules.ShardingPlan;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.memory.ByteSize;
import io.colo4j.zoo.memory.MemoryPerRank;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * {@code plan --fit}: the smallest tp x dp x (ZeRO, sequence parallelism, recompute) at which a config, batch and
 * seq fit a memory per rank (parameters, gradients, optimizer state and activations), and among the layouts of
 * that many ranks, the one that communicates least. Rank counts are tried from 1 up (or only {@code world}); each
 * tp degree the rules accept is traced once ({@link ProxyTrace}), and only when its parameters alone fit, so the
 * model is never allocated and a large config costs a few proxy traces.
 */
public final class LayoutSearch {
    /** The most ranks tried when no world size is given. */
    public static final int MAX_RANKS = 64;

    /** What is preferred among layouts that fit: fewer ranks, then fewer bytes sent, then less recompute, ZeRO, SP. */
    public static final Comparator<Candidate> PREFERENCE = Comparator.comparingInt(Candidate::ranks)
            .thenComparingLong(c -> c.commBytes().orElse(Long.MAX_VALUE))
            .thenComparing(c -> c.activations().recompute())
            .thenComparingInt(Candidate::zero)
            .thenComparing(c -> c.activations().sequenceParallel());

    /**
     * One layout and what it costs a rank. {@code stateBytes}: parameters, gradients and optimizer state;
     * {@code commBytes}: sent per step (empty when a collective of the proxy did not scale, or not traced);
     * {@code traced}: false for a layout judged by its parameters alone (its activations were not measured).
     */
    public record Candidate(int tp, int dp, int zero, ActivationLayouts.Layout activations, long stateBytes, long activationBytes,
                            OptionalLong commBytes, boolean traced) {
        public int ranks() {
            return tp * dp;
        }

        public long totalBytes() {
            return stateBytes + activationBytes;
        }

        public String describe() {
            return "tp=" + tp + " dp=" + dp + " zero " + zero + (activations.sequenceParallel() ? ", sequence parallel" : "")
                    + ", recompute " + activations.recompute().name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The layouts that fit at the smallest rank count that has any, best first; the tp degrees traced. */
    public record Result(ModelZoo.Family family, String config, int batch, int seq, long budgetBytes, List<Candidate> fitting,
                         List<Integer> tracedTp) {
        public Result {
            fitting = List.copyOf(fitting);
            tracedTp = List.copyOf(tracedTp);
        }

        public Candidate chosen() {
            return fitting.get(0);
        }
    }

    private LayoutSearch() {}

    /**
     * Searches. Fails naming the least memory any layout needs when none fits {@code budgetBytes} per rank (within
     * {@code world} ranks, or {@link #MAX_RANKS}).
     */
    public static Result search(ModelZoo.Family family, String config, int batch, int seq, long budgetBytes, OptionalInt world) {
        if (budgetBytes < 1) {
            throw new IllegalArgumentException("--fit: the memory per rank must be positive, got " + budgetBytes + " bytes");
        }
        Module lazy = family.buildLazily(config);
        int most = world.orElse(MAX_RANKS);
        List<Integer> degrees = TpDegrees.accepted(family, lazy, most);
        Map<Integer, ProxyTrace> traces = new HashMap<>();
        ActivationFit[] serial = {null};
        Candidate least = null;
        for (int ranks = world.orElse(1); ranks <= most; ranks++) {
            List<Candidate> fitting = new ArrayList<>();
            for (int tp : degrees) {
                if (ranks % tp != 0) {
                    continue;
                }
                int dp = ranks / tp;
                ShardingPlan sharding = family.rules().plan(lazy, tp);
                for (int zero = 0; zero <= (dp == 1 ? 0 : 2); zero++) {
                    // parameters alone (no gradient, no activation) are a lower bound: past the budget, no trace is needed
                    long bound = MemoryPerRank.of(sharding, dp, zero, name -> false).totalBytes();
                    if (bound > budgetBytes) {
                        Candidate c = new Candidate(tp, dp, zero, new ActivationLayouts.Layout(Recompute.FULL,
                                tp > 1), bound, 0, OptionalLong.empty(), false);
                        least = less(least, c);
                        continue;
                    }
                    ProxyTrace trace = traces.computeIfAbsent(tp, t -> ProxyTrace.of(family, config, t, serial[0]));
                    if (serial[0] == null) {
                        // tp 1's middle layer is what sequence parallelism compares every tp with: measured once
                        serial[0] = tp == 1 ? trace.activations().perLayer() : trace.activations().serialPerLayer();
                    }
                    SizingPlan plan = SizingPlan.of(new SizingPlan.Request(family, config, tp, dp, zero, batch, seq), trace);
                    for (ActivationLayouts.Layout layout : ActivationLayouts.layouts(tp)) {
                        long act = ActivationLayouts.bytesPerRank(plan.activations(), layout.recompute(), layout.sequenceParallel(), batch, seq);
                        Candidate c = new Candidate(tp, dp, zero, layout, plan.memory().totalBytes(), act,
                                plan.communication().total().bytes(), true);
                        least = less(least, c);
                        if (c.totalBytes() <= budgetBytes) {
                            fitting.add(c);
                        }
                    }
                }
            }
            if (!fitting.isEmpty()) {
                fitting.sort(PREFERENCE);
                return new Result(family, config, batch, seq, budgetBytes, fitting,
                        traces.keySet().stream().sorted().toList());
            }
        }
        String within = world.isPresent() ? "at " + most + " ranks" : "of up to " + most + " ranks";
        String need = least == null ? "" : ": the least any needs is " + (least.traced() ? "" : "more than ")
                + ByteSize.of(least.totalBytes()) + " per rank (" + least.describe() + (least.traced() ? "" : "; its parameters alone")
                + ")";
        throw new IllegalArgumentException(family.name() + " " + config + " at " + batch + " x " + seq + " tokens per dp rank fits no"
                + " layout " + within + " (tp degrees " + degrees + ") in " + ByteSize.of(budgetBytes) + " per rank" + need);
    }

    private static Candidate less(Candidate a, Candidate b) {
        return a == null || b.totalBytes() < a.totalBytes() ? b : a;
    }
}

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
import java.util.function.Predicate;

/**
 * {@code plan --fit}: the smallest tp x dp x (ZeRO, sequence parallelism, recompute) at which a config, batch and
 * seq fit a memory per rank (parameters, gradients, optimizer state and activations), and among the layouts of
 * that many ranks, the one that communicates least. Rank counts are tried from 1 up (or only {@code world}); each
 * tp degree the rules accept is traced once ({@link ProxyTrace}), and only when a layout's lower bound fits (its
 * parameters alone; once a tp is traced, with their gradients and optimizer state), so the model is never allocated
 * and a large config costs a few proxy traces.
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
     * {@code world} ranks, or {@link #MAX_RANKS}). A layout is traced only when a lower bound of its need (parameters,
     * and once any tp is traced, their gradients and optimizer state) is within the budget, or, when nothing fits, when
     * it could still be the one that needs least: the answer is {@link #searchExhaustively}'s, for fewer traces.
     */
    public static Result search(ModelZoo.Family family, String config, int batch, int seq, long budgetBytes, OptionalInt world) {
        return search(family, config, batch, seq, budgetBytes, world, true);
    }

    /** {@link #search} tracing every tp whose parameters alone fit, bounds or not: what the bounded search must equal. */
    static Result searchExhaustively(ModelZoo.Family family, String config, int batch, int seq, long budgetBytes, OptionalInt world) {
        return search(family, config, batch, seq, budgetBytes, world, false);
    }

    private static Result search(ModelZoo.Family family, String config, int batch, int seq, long budgetBytes, OptionalInt world,
                                 boolean bounded) {
        if (budgetBytes < 1) {
            throw new IllegalArgumentException("--fit: the memory per rank must be positive, got " + budgetBytes + " bytes");
        }
        Module lazy = family.buildLazily(config);
        int most = world.orElse(MAX_RANKS);
        List<Integer> degrees = TpDegrees.accepted(family, lazy, most);
        Traces traces = new Traces(family, config, batch, seq);
        Least least = new Least();
        List<Deferred> deferred = new ArrayList<>();
        for (int ranks = world.orElse(1); ranks <= most; ranks++) {
            List<Candidate> fitting = new ArrayList<>();
            for (int tp : degrees) {
                if (ranks % tp != 0) {
                    continue;
                }
                int dp = ranks / tp;
                ShardingPlan sharding = family.rules().plan(lazy, tp);
                for (int zero = 0; zero <= (dp == 1 ? 0 : 2); zero++) {
                    long order = least.next();
                    // parameters alone (no gradient, no activation) are a lower bound: past the budget, no trace is needed
                    long bound = MemoryPerRank.of(sharding, dp, zero, name -> false).totalBytes();
                    if (bound > budgetBytes) {
                        least.offer(new Candidate(tp, dp, zero, new ActivationLayouts.Layout(Recompute.FULL, tp > 1), bound, 0,
                                OptionalLong.empty(), false), order);
                        continue;
                    }
                    // with the gradients and optimizer state of the parameters that get one (known from any traced tp)
                    long stateBound = bounded ? traces.stateLowerBound(sharding, dp, zero) : 0;
                    if (stateBound > budgetBytes) {
                        deferred.add(new Deferred(tp, dp, zero, stateBound, order));
                        continue;
                    }
                    for (Candidate c : traces.candidates(tp, dp, zero)) {
                        least.offer(c, order);
                        if (c.totalBytes() <= budgetBytes) {
                            fitting.add(c);
                        }
                    }
                }
            }
            if (!fitting.isEmpty()) {
                fitting.sort(PREFERENCE);
                return new Result(family, config, batch, seq, budgetBytes, fitting, traces.tracedTp());
            }
        }
        // nothing fits: a deferred layout can still be the one that needs least, unless its bound says it needs more
        deferred.sort(Comparator.comparingLong(Deferred::stateBound));
        for (Deferred d : deferred) {
            if (least.best != null && d.stateBound() > least.best.totalBytes()) {
                break;
            }
            traces.candidates(d.tp(), d.dp(), d.zero()).forEach(c -> least.offer(c, d.order()));
        }
        String within = world.isPresent() ? "at " + most + " ranks" : "of up to " + most + " ranks";
        Candidate l = least.best;
        String need = l == null ? "" : ": the least any needs is " + (l.traced() ? "" : "more than ")
                + ByteSize.of(l.totalBytes()) + " per rank (" + l.describe() + (l.traced() ? "" : "; its parameters alone")
                + ")";
        throw new IllegalArgumentException(family.name() + " " + config + " at " + batch + " x " + seq + " tokens per dp rank fits no"
                + " layout " + within + " (tp degrees " + degrees + ") in " + ByteSize.of(budgetBytes) + " per rank" + need);
    }

    /** A layout whose lower bound is past the budget: traced only if nothing fits and it may need least. */
    private record Deferred(int tp, int dp, int zero, long stateBound, long order) {}

    /**
     * The layout that needs least of those seen, the first in the exhaustive search's order among equals (so deferring
     * a layout does not change which one a refusal names).
     */
    private static final class Least {
        private Candidate best;
        private long bestOrder;
        private long counter;

        long next() {
            return counter++;
        }

        void offer(Candidate c, long order) {
            if (best == null || c.totalBytes() < best.totalBytes() || (c.totalBytes() == best.totalBytes() && order < bestOrder)) {
                best = c;
                bestOrder = order;
            }
        }
    }

    /** One trace per tp, made when first needed and kept for every dp, ZeRO stage and layout. */
    private static final class Traces {
        private final ModelZoo.Family family;
        private final String config;
        private final int batch;
        private final int seq;
        private final Map<Integer, ProxyTrace> byTp = new HashMap<>();
        private Predicate<String> getsGradient;

        Traces(ModelZoo.Family family, String config, int batch, int seq) {
            this.family = family;
            this.config = config;
            this.batch = batch;
            this.seq = seq;
        }

        /**
         * Parameters, and the gradients and optimizer state of those that got a gradient in a traced tp (which ones do
         * is the model's graph, the same at every tp), per rank: no more than the layout's state; parameters alone
         * before any tp is traced.
         */
        long stateLowerBound(ShardingPlan sharding, int dp, int zero) {
            return MemoryPerRank.of(sharding, dp, zero, getsGradient == null ? name -> false : getsGradient).totalBytes();
        }

        /**
         * The layout at every recompute and sequence parallelism, sized from its tp's trace: activations and communication
         * (full recompute's repeated forward collectives, selective recompute's re-gathers under sequence parallelism) of
         * the proxy's steps under that layout.
         */
        List<Candidate> candidates(int tp, int dp, int zero) {
            ProxyTrace trace = byTp.computeIfAbsent(tp, t -> ProxyTrace.of(family, config, t));
            if (getsGradient == null) {
                getsGradient = trace.getsGradient();
            }
            List<Candidate> out = new ArrayList<>();
            for (ActivationLayouts.Layout layout : ActivationLayouts.layouts(tp)) {
                SizingPlan plan = SizingPlan.of(new SizingPlan.Request(family, config, tp, dp, zero, batch, seq, layout.recompute()),
                        trace, layout);
                long act = plan.activations().bytesPerRank(layout, batch, seq);
                out.add(new Candidate(tp, dp, zero, layout, plan.memory().totalBytes(), act, plan.communication().total().bytes(), true));
            }
            return out;
        }

        List<Integer> tracedTp() {
            return byTp.keySet().stream().sorted().toList();
        }
    }
}

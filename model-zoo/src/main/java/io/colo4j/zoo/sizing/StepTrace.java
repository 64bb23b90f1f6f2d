package io.colo4j.zoo.sizing;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.LanguageModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Training steps of a zoo model with the communication trace on: the measured side of a plan. On tp x dp
 * in-JVM ranks each rank builds the model lazily, applies the family's rules (materialising only its
 * shards), and for each window runs the loss, backward and {@link DataParallel#averageGradients}; rank 0's
 * {@link CommTrace} is kept per window. Every rank holds its shards of the whole model, so this is for
 * small configs and for proxies ({@link ModelZoo.Family#buildProxy}); parameters and gradients are freed
 * at the end rather than left to the cleaner.
 */
public final class StepTrace {
    /** {@code batch} sequences of {@code seq} tokens per dp rank. */
    public record Window(int batch, int seq) {
        public Window {
            if (batch < 1 || seq < 1) {
                throw new IllegalArgumentException("a window needs batch >= 1 and seq >= 1, got " + batch + " x " + seq);
            }
        }

        public long tokens() {
            return (long) batch * seq;
        }

        @Override
        public String toString() {
            return batch + "x" + seq;
        }
    }

    /**
     * Rank 0's collectives of each window, in order; the parameters that got no gradient (the dp gradient
     * sync skips them); those whose gradient {@link io.colo4j.tensor.colo.SequenceParallelGrads} summed over tp after
     * backward; the model's layer stacks; per window, the step-scoped bytes (activations and backward
     * temporaries) a rank held at its peak in each {@link Phases phase} of the step.
     */
    public record Result(List<List<CommTrace.Record>> windows, Set<String> withoutGradient, Set<String> gradSummedAfterBackward,
                         LayerStacks stacks, List<Phases> phasePeaks) {
        public Result {
            gradSummedAfterBackward = Collections.unmodifiableSet(new LinkedHashSet<>(gradSummedAfterBackward));
            windows = List.copyOf(windows);
            phasePeaks = List.copyOf(phasePeaks);
            withoutGradient = Collections.unmodifiableSet(new LinkedHashSet<>(withoutGradient));
        }

        /** Per window, the step-scoped bytes a rank held at the step's peak. */
        public List<Long> stepPeakBytesPerRank() {
            return phasePeaks.stream().map(Phases::step).toList();
        }
    }

    /**
     * A step's peak of step-scoped bytes in its four phases: the forward through the layers (where recompute's layers
     * hold their attention scores or a layer's activations for a moment), the rest of the forward and the loss (the
     * head's logits), backward until it adds the first parameter gradient (the head's backward, with every layer's
     * activations held) and after (backward through the layers, where recompute reruns a layer). They are sized apart:
     * which one is the step's peak depends on the window and the vocabulary, so a proxy's small windows and
     * vocabulary may peak in another one than the model's, and two events of one phase that never meet (a layer's
     * temporaries and the logits) would be sized as their sum.
     */
    public record Phases(long layers, long forward, long toFirstGradient, long afterFirstGradient) {
        public long step() {
            return Math.max(Math.max(layers, forward), Math.max(toFirstGradient, afterFirstGradient));
        }
    }

    /**
     * Ends the phases of a step ({@link Phases}): the layers at each layer's end in forward (the last one's), the forward
     * at the loss, the next at a hook on every parameter.
     */
    private static final class PhaseBoundary {
        private long layers = -1;
        private long forward = -1;
        private long toFirstGradient = -1;

        void install(Module model) {
            Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Parameter p : model.parameters()) {
                if (seen.add(p)) {
                    p.addGradHook(g -> {
                        if (toFirstGradient < 0) {
                            toFirstGradient = MemoryStats.stepPeakBytes();
                            MemoryStats.resetStepPeak();
                        }
                    });
                }
            }
        }

        void startStep() {
            layers = 0;
            forward = -1;
            toFirstGradient = -1;
            MemoryStats.resetStepPeak(); // per thread: this rank's own step peak
        }

        /** A layer's forward returned: what the forward held so far belongs to the layers' phase. */
        void layerEnded() {
            if (forward < 0) {
                layers = Math.max(layers, MemoryStats.stepPeakBytes());
                MemoryStats.resetStepPeak();
            }
        }

        void endForward() {
            forward = MemoryStats.stepPeakBytes();
            MemoryStats.resetStepPeak();
        }

        Phases endStep() {
            long last = MemoryStats.stepPeakBytes();
            return toFirstGradient < 0 ? new Phases(layers, forward, last, 0) : new Phases(layers, forward, toFirstGradient, last);
        }
    }

    private StepTrace() {}

    /** Builds {@code build}'s model on every rank (inside its InitContext) and traces one step per window. */
    public static Result run(ModelZoo.Family family, Supplier<Module> build, int tp, int dp, List<Window> windows) {
        return run(family, build, tp, dp, windows, Recompute.NONE);
    }

    /** As {@link #run(ModelZoo.Family, Supplier, int, int, List)}, each step's forward under {@code recompute}. */
    public static Result run(ModelZoo.Family family, Supplier<Module> build, int tp, int dp, List<Window> windows, Recompute recompute) {
        checkWindows(windows);
        return ThreadWorld.call(tp * dp, comm -> {
            try {
                return trace(family, build, tp, dp, windows, List.of(recompute), comm, true, false).get(0);
            } finally {
                MemoryScope.releaseThreadCache();
            }
        }).get(0);
    }

    /**
     * A sizing proxy of a config: the family (its rules), the proxy's shape ({@link ModelZoo.Family#buildProxy}) and the
     * recompute modes its steps run under, each at every window of one build (a result per mode).
     */
    record Proxy(ModelZoo.Family family, ModelZoo.ProxyShape shape, List<Recompute> modes) {
        Proxy {
            modes = List.copyOf(modes);
            if (modes.isEmpty()) {
                throw new IllegalArgumentException("a proxy needs at least one recompute mode to run its steps under");
            }
        }

        /** Steps without recompute. */
        Proxy(ModelZoo.Family family, ModelZoo.ProxyShape shape) {
            this(family, shape, List.of(Recompute.NONE));
        }
    }

    /**
     * Traces {@code config}'s sizing proxies at tp, one step per window each, one after the other on the same rank
     * threads: a rank's step pool, grown by the first (largest) proxy, then serves the others without faulting in new
     * pages. The proxies' parameters are zeros ({@link InitContext#openWithoutValues}): what a step allocates and sends
     * does not depend on the values, and drawing them was most of a wide proxy's cost. One result per proxy and mode, in
     * that order.
     */
    static List<Result> runProxies(String config, List<Proxy> proxies, int tp, List<Window> windows) {
        return runProxies(config, proxies, tp, windows, true);
    }

    /**
     * As {@link #runProxies(String, List, int, List)}; {@code skipZeroWork}: what the proxies' zeros make needless is
     * skipped: their matrix products are written, not computed ({@link ProxyKernels}), and their parameters and gradients
     * are views of one zero block ({@link SharedZeros}); false only to show that this changes nothing.
     */
    static List<Result> runProxies(String config, List<Proxy> proxies, int tp, List<Window> windows, boolean skipZeroWork) {
        checkWindows(windows);
        return ThreadWorld.call(tp, comm -> {
            List<Result> results = new ArrayList<>();
            try (var kernels = skipZeroWork ? Backends.use(ProxyKernels.of(Backends.current())) : null) {
                for (Proxy p : proxies) {
                    results.addAll(trace(p.family(), () -> p.family().buildProxy(config, p.shape(), SizingPlan.PROXY_SEED), tp, 1,
                            windows, p.modes(), comm, false, skipZeroWork));
                }
            } finally {
                // the rank thread ends here: its step pool goes back now, not when a collection runs its cleaner (a
                // large config's next tp would otherwise be traced beside this one's pools)
                MemoryScope.releaseThreadCache();
            }
            return results;
        }).get(0);
    }

    private static void checkWindows(List<Window> windows) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("no window to trace");
        }
    }

    /**
     * One rank's part of {@link #run}: builds the model in an InitContext on {@code comm}, traces each window under each
     * recompute mode (a result per mode), frees it.
     */
    private static List<Result> trace(ModelZoo.Family family, Supplier<Module> build, int tp, int dp, List<Window> windows,
                                      List<Recompute> modes, Communicator comm, boolean values, boolean sharedZeros) {
        Module model;
        InitContext ctx = values ? InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu")
                : InitContext.openWithoutValues(ProcessGroup.of(tp, dp), comm, "cpu");
        try (ctx) {
            model = build.get();
        }
        SharedZeros shared = null;
        try {
            family.rules().apply(model);
            shared = sharedZeros ? SharedZeros.install(model) : null;
            PhaseBoundary phases = new PhaseBoundary();
            phases.install(model);
            LanguageModel lm = family.languageModel(model);
            CommTrace trace = ctx.context().trace();
            // per mode, each window's collectives and step peaks
            List<List<List<CommTrace.Record>>> traced = new ArrayList<>();
            List<List<Phases>> stepPeaks = new ArrayList<>();
            for (Recompute mode : modes) {
                traced.add(new ArrayList<>());
                stepPeaks.add(new ArrayList<>());
                for (Window w : windows) {
                    if (w.seq() > lm.maxSequenceLength()) {
                        throw new IllegalArgumentException("a window of " + w.seq() + " tokens is longer than the "
                                + lm.maxSequenceLength() + " the model accepts");
                    }
                    if (shared == null) {
                        model.zeroGrad();
                    }
                    trace.clear();
                    phases.startStep();
                    trace.enable(true);
                    try (MemoryScope scope = MemoryScope.open(); var recompute = Recompute.use(mode);
                         var layerEnds = Recompute.observeLayers(phases::layerEnded)) {
                        Tensor loss = lm.loss(tokens(w, lm.vocabSize(), 13, 7919), tokens(w, lm.vocabSize(), 7, 104729), 0);
                        phases.endForward();
                        loss.backward();
                        DataParallel.averageGradients(model, ctx.context());
                        comm.barrier();
                    } finally {
                        trace.enable(false);
                    }
                    stepPeaks.getLast().add(phases.endStep());
                    traced.getLast().add(trace.records());
                }
            }
            Set<String> withoutGradient = new LinkedHashSet<>();
            Set<String> summedAfterBackward = new LinkedHashSet<>();
            SharedZeros gradients = shared;
            model.namedParameters().forEach((name, p) -> {
                if (gradients == null ? p.grad() == null : !gradients.accumulated(p)) {
                    withoutGradient.add(name);
                }
                if (p instanceof io.colo4j.tensor.colo.ColoParameter c && c.gradSummedAfterBackward()) {
                    summedAfterBackward.add(name);
                }
            });
            List<Result> results = new ArrayList<>();
            for (int m = 0; m < modes.size(); m++) {
                results.add(new Result(traced.get(m), withoutGradient, summedAfterBackward, LayerStacks.of(model), stepPeaks.get(m)));
            }
            return results;
        } finally {
            release(model);
            if (shared != null) {
                shared.free();
            }
        }
    }

    /** Deterministic ids spread over the vocabulary (what they are changes no collective). */
    private static IntTensor tokens(Window w, int vocab, int offset, int multiplier) {
        int[] ids = new int[Math.toIntExact(w.tokens())];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) (((long) i * multiplier + offset) % vocab);
        }
        return IntTensor.of(ids, w.batch(), w.seq());
    }

    /** Frees the gradients and the materialised shards now (tied parameters are one object: freed once). */
    private static void release(Module model) {
        model.zeroGrad();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter p : model.parameters()) {
            if (seen.add(p) && p.isMaterialized()) {
                p.freeStorage();
            }
        }
    }
}

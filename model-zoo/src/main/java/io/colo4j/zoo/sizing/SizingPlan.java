package io.colo4j.zoo.sizing;

import io.colo4j.zoo.memory.MemoryPerRank;
import io.colo4j.rules.Assignment;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.LanguageModel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What a training run of a zoo config at tp x dp costs each rank, without allocating the model: memory
 * from the sharding plan of the lazily built model ({@link MemoryPerRank}), communication per step from a
 * proxy ({@link ModelZoo.Family#buildProxy}: at most {@link ProxyLayers#MAX_LAYERS} layers per stack and a
 * vocabulary of {@link #PROXY_VOCAB_PER_TP} x tp) traced on tp in-JVM ranks at three small windows, checked
 * and scaled to the step's tokens ({@link TokenScaling}), plus the dp collectives ({@link DpGradientSync}).
 * The proxy holds min(layers, 3) / layers of the model's parameters (spread over its tp ranks), with their
 * gradients and, during backward, a scratch copy of those: about three times that in all.
 */
public record SizingPlan(Request request, MemoryPerRank memory, Proxy proxy, CommPerStep communication,
                         ActivationLayouts activations) {
    /** Proxy vocabulary per tp rank: a vocabulary-parallel layer communicates per token, so any size divisible by tp will do. */
    public static final int PROXY_VOCAB_PER_TP = 64;
    /** The smallest window the proxy is traced at (rounded up to whole multiples of tp per token stream). */
    static final int MIN_PROBE_SEQ = 8;
    static final long PROXY_SEED = 1234;

    /**
     * A run to size: {@code batch} sequences of {@code seq} tokens per dp rank and step, ZeRO stage
     * {@code zero} (0, 1 or 2), its forward under {@code recompute} (full recompute runs each layer's forward collectives
     * again in backward; with sequence parallelism, selective recompute gathers the column inputs again).
     */
    public record Request(ModelZoo.Family family, String config, int tp, int dp, int zero, int batch, int seq, Recompute recompute) {
        /** A run without recompute. */
        public Request(ModelZoo.Family family, String config, int tp, int dp, int zero, int batch, int seq) {
            this(family, config, tp, dp, zero, batch, seq, Recompute.NONE);
        }

        public Request {
            java.util.Objects.requireNonNull(recompute, "recompute");
            if (tp < 1 || dp < 1) {
                throw new IllegalArgumentException("tp and dp must be >= 1, got tp=" + tp + " dp=" + dp);
            }
            if (batch < 1 || seq < 1) {
                throw new IllegalArgumentException("batch and seq must be >= 1, got " + batch + " x " + seq);
            }
            MemoryPerRank.checkZero(zero);
        }

        public String what() {
            return family.name() + " " + config;
        }

        public long tokens() {
            return (long) batch * seq;
        }

        /** How the run holds its activations: its recompute, and its rules' sequence parallelism (none at tp 1). */
        public ActivationLayouts.Layout layout() {
            return new ActivationLayouts.Layout(recompute, ProxyTrace.ownSequenceParallel(family, tp));
        }
    }

    /**
     * The proxy that was traced: its shape, how its layers stand for the model's, the windows of its three
     * probes, and the most tensor memory its traced steps held at once (all its tp ranks together).
     */
    public record Proxy(ModelZoo.ProxyShape shape, ProxyLayers layers, List<StepTrace.Window> probes, long peakBytes) {}

    /**
     * Sizes the run. Fails naming the culprits when the rules cannot shard the config at this tp (e.g. a
     * head count tp does not divide) or the window does not suit the model.
     */
    public static SizingPlan of(Request request) {
        checkWindow(request, request.family().languageModel(request.family().buildLazily(request.config())));
        return of(request, ProxyTrace.of(request.family(), request.config(), request.tp()));
    }

    /** {@link #of(Request)} without activations ({@link #activations()} null): the communication probes only. */
    public static SizingPlan communicationOf(Request request) {
        checkWindow(request, request.family().languageModel(request.family().buildLazily(request.config())));
        return of(request, ProxyTrace.communication(request.family(), request.config(), request.tp(), request.recompute()));
    }

    /** Sizes the run from a trace of its family, config and tp, made once for any dp, ZeRO stage, layout and window. */
    public static SizingPlan of(Request request, ProxyTrace trace) {
        return of(request, trace, request.layout());
    }

    /**
     * As {@link #of(Request, ProxyTrace)}, the communication of the proxy's steps under {@code layout} instead of the
     * request's own (what {@code plan --fit} compares layouts by).
     */
    public static SizingPlan of(Request request, ProxyTrace trace, ActivationLayouts.Layout layout) {
        if (trace.family() != request.family() || !trace.config().equals(request.config()) || trace.tp() != request.tp()) {
            throw new IllegalArgumentException("a trace of " + trace.family().name() + " " + trace.config() + " at tp=" + trace.tp()
                    + " cannot size " + request.what() + " at tp=" + request.tp());
        }
        LanguageModel lm = request.family().languageModel(trace.lazyModel());
        checkWindow(request, lm);
        StepTrace.Result traced = trace.steps(layout);
        ProxyLayers layers = new ProxyLayers(LayerStacks.of(trace.lazyModel()), traced.stacks());
        Predicate<String> getsGradient = trace.getsGradient();

        MemoryPerRank memory = MemoryPerRank.of(trace.sharding(), request.dp(), request.zero(), getsGradient);
        List<DpGradientSync.Local> locals = new ArrayList<>();
        for (Assignment a : trace.sharding().assignments()) {
            if (getsGradient.test(a.parameter())) {
                locals.add(new DpGradientSync.Local(a.parameter(), Shapes.numel(a.localShape())));
            }
        }
        CommPerStep communication = CommPerStep.of(TokenScaling.check(trace.base(), trace.probeTraces(layout)), layers, trace.base(),
                new StepTrace.Window(request.batch(), request.seq()),
                DpGradientSync.of(locals, request.dp(), request.zero()), sequenceParallelGradSendBytes(trace, traced, layers));
        return new SizingPlan(request, memory, new Proxy(trace.shape(), layers, trace.probes(), trace.peakBytes()), communication,
                trace.activations());
    }

    /**
     * The bytes a rank sends in the one all-reduce ({@link io.colo4j.tensor.colo.SequenceParallelGrads}) of the model's
     * parameters whose proxy counterparts had their gradients summed over tp after backward (the proxy's own all-reduce
     * covers its fewer layers only); 0 when none.
     */
    private static long sequenceParallelGradSendBytes(ProxyTrace trace, StepTrace.Result traced, ProxyLayers layers) {
        long floats = 0;
        for (Assignment a : trace.sharding().assignments()) {
            if (traced.gradSummedAfterBackward().contains(layers.proxyPath(a.parameter()))) {
                floats += Shapes.numel(a.localShape());
            }
        }
        long bytes = floats * Float.BYTES;
        return io.colo4j.spec.placement.CollectiveKind.ALL_REDUCE.volume(trace.tp(), bytes, bytes).sendBytesPerRank();
    }

    private static void checkWindow(Request request, LanguageModel lm) {
        if (request.seq() > lm.maxSequenceLength()) {
            throw new IllegalArgumentException(request.what() + " accepts at most " + lm.maxSequenceLength()
                    + " tokens per sequence, not " + request.seq());
        }
        if (request.seq() % lm.windowStep() != 0) {
            throw new IllegalArgumentException(request.what() + ": seq " + request.seq() + " is not a multiple of "
                    + lm.windowStep() + "; the model's work per token is the same only at multiples of it (for t5: even"
                    + " windows split into equal encoder and decoder halves), and the sizing plan scales by tokens");
        }
    }
}

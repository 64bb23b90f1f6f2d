package io.colo4j.zoo.sizing;

import io.colo4j.rules.ShardingPlan;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.LanguageModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a sizing plan measures at one tp degree, once: the lazily built model and its sharding plan, and the proxy
 * steps ({@link StepTrace}) that give the collectives and the activations of every activation layout (recompute,
 * sequence parallelism). Every dp, ZeRO stage, layout, batch and seq is then arithmetic
 * ({@link SizingPlan#of(SizingPlan.Request, ProxyTrace)}), which is what lets {@code plan --fit} try many layouts for the
 * cost of one trace per tp.
 *
 * @param base      the smallest probe window; {@code probes} are base, 2 x batch, 2 x seq (the communication probes)
 * @param traced    the sizing proxy's steps without recompute, sharded by the family's own rules (the layout whose
 *                  communication a plan shows unless asked for another), at the traced windows: the five
 *                  {@link ActivationFit#windows} of base, or only the probes when activations were not traced
 * @param steps     the sizing proxy's steps per layout traced (with activations, every layout of {@link ActivationLayouts#layouts})
 * @param activations per layout; null when only communication was traced
 * @param peakBytes the most tensor memory the proxies' steps held at once (all their ranks together)
 */
public record ProxyTrace(ModelZoo.Family family, String config, int tp, Module lazyModel, ShardingPlan sharding,
                         StepTrace.Window base, List<StepTrace.Window> probes, ModelZoo.ProxyShape shape, StepTrace.Result traced,
                         Map<ActivationLayouts.Layout, StepTrace.Result> steps, ActivationLayouts activations, long peakBytes) {

    /**
     * Traces {@code config} at {@code tp}, the proxies' steps under every activation layout. Fails naming the culprits
     * when the rules cannot shard the config at this tp.
     */
    public static ProxyTrace of(ModelZoo.Family family, String config, int tp) {
        return of(family, config, tp, null);
    }

    /**
     * The communication probes only, the steps under {@code recompute} (what a run's header needs: three proxy steps, not
     * the activation proxies' dozens); {@link #activations()} is null.
     */
    public static ProxyTrace communication(ModelZoo.Family family, String config, int tp, Recompute recompute) {
        return of(family, config, tp, recompute);
    }

    /** Every layout's activations when {@code communicationOnly} is null, else the probes under that recompute. */
    private static ProxyTrace of(ModelZoo.Family family, String config, int tp, Recompute communicationOnly) {
        Module model = family.buildLazily(config);
        LanguageModel lm = family.languageModel(model);
        ShardingPlan sharding = TpDegrees.require(family, config, model, tp);
        int unit = tp * lm.windowStep();
        // batch 2: at batch 1 some [b, s, h] layouts are views that are copies at any larger batch (4 per GPT-2 layer)
        StepTrace.Window base = new StepTrace.Window(2, Math.ceilDiv(SizingPlan.MIN_PROBE_SEQ, unit) * unit);
        boolean activations = communicationOnly == null;
        List<StepTrace.Window> windows = activations ? ActivationFit.windows(base) : TokenScaling.probes(base);
        int longest = windows.stream().mapToInt(StepTrace.Window::seq).max().orElseThrow();
        // the model's own positions: a position table's gradient is a step temporary as large as the table
        ModelZoo.ProxyShape shape = new ModelZoo.ProxyShape(ProxyLayers.MAX_LAYERS, SizingPlan.PROXY_VOCAB_PER_TP * tp,
                Math.max(longest, lm.maxSequenceLength()));
        // the proxy's cost, to show that sizing is cheap; MemoryStats is per JVM, so this includes anything run alongside
        long liveBefore = MemoryStats.liveBytes();
        MemoryStats.resetPeak();
        boolean ownSp = ownSequenceParallel(family, tp);
        List<Recompute> modes = activations ? List.of(Recompute.values()) : List.of(communicationOnly);
        // per sequence parallelism: the sizing proxy and its single-layer twin, each stepping under every recompute mode
        List<Boolean> sps = activations && tp > 1 ? List.of(false, true) : List.of(ownSp);
        List<StepTrace.Proxy> proxies = new ArrayList<>();
        for (boolean sp : sps) {
            ModelZoo.Family f = sp ? family.withSequenceParallel(true) : family.withoutSequenceParallel();
            proxies.add(new StepTrace.Proxy(f, shape, modes));
            if (activations) {
                proxies.add(new StepTrace.Proxy(f, shape.withLayers(1), modes));
            }
        }
        if (activations) {
            // a vocabulary entry (logits, their gradient, the head's and embedding's weight gradients): the same in every layout
            proxies.add(new StepTrace.Proxy(family.withoutSequenceParallel(), ActivationSizing.wideVocabulary(shape)));
        }
        List<StepTrace.Result> results = StepTrace.runProxies(config, proxies, tp, windows);
        Map<ActivationLayouts.Layout, StepTrace.Result> steps = new LinkedHashMap<>();
        Map<ActivationLayouts.Layout, ActivationSizing> sized = new LinkedHashMap<>();
        int perSp = modes.size() * (activations ? 2 : 1);
        List<ActivationFit> perEntry = activations ? ActivationSizing.perEntry(windows, results.get(modes.size() + modes.indexOf(Recompute.NONE)),
                results.getLast(), shape) : null;
        long vocabulary = (long) Math.ceilDiv(lm.vocabSize(), tp) * tp;
        for (int i = 0; i < sps.size(); i++) {
            for (int m = 0; m < modes.size(); m++) {
                ActivationLayouts.Layout layout = new ActivationLayouts.Layout(modes.get(m), sps.get(i));
                StepTrace.Result sizing = results.get(i * perSp + m);
                steps.put(layout, sizing);
                if (activations) {
                    sized.put(layout, ActivationSizing.of(tp, model, shape, windows, sizing, results.get(i * perSp + modes.size() + m),
                            perEntry, vocabulary));
                }
            }
        }
        long peak = MemoryStats.peakBytes() - liveBefore;
        StepTrace.Result traced = steps.get(new ActivationLayouts.Layout(modes.contains(Recompute.NONE) ? Recompute.NONE : communicationOnly, ownSp));
        return new ProxyTrace(family, config, tp, model, sharding, base, TokenScaling.probes(base), shape, traced, steps,
                activations ? new ActivationLayouts(sized) : null, peak);
    }

    /** Whether the family's own rules run sequence parallel at tp (at tp 1 there is nothing to split). */
    static boolean ownSequenceParallel(ModelZoo.Family family, int tp) {
        return tp > 1 && family.rules().sequenceParallel();
    }

    /**
     * The sizing proxy's steps under {@code layout}; fails naming it and the layouts traced when it was not (a trace of
     * the communication probes holds one).
     */
    StepTrace.Result steps(ActivationLayouts.Layout layout) {
        StepTrace.Result r = steps.get(layout);
        if (r == null) {
            throw new IllegalArgumentException(family.name() + " " + config + " at tp=" + tp + " was not traced under " + layout
                    + "; traced: " + steps.keySet());
        }
        return r;
    }

    /** Whether a parameter of the model (its name) gets a gradient: its proxy counterpart got one in the traced steps. */
    java.util.function.Predicate<String> getsGradient() {
        ProxyLayers layers = new ProxyLayers(LayerStacks.of(lazyModel), traced.stacks());
        return name -> !traced.withoutGradient().contains(layers.proxyPath(name));
    }

    /** The collectives of the communication probes (the first three windows) of the steps under {@code layout}. */
    List<List<io.colo4j.tensor.colo.CommTrace.Record>> probeTraces(ActivationLayouts.Layout layout) {
        return steps(layout).windows().subList(0, 3);
    }
}

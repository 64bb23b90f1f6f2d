package io.colo4j.zoo.sizing;

import io.colo4j.rules.ShardingPlan;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.LanguageModel;
import java.util.ArrayList;
import java.util.List;

/**
 * What a sizing plan measures at one tp degree, once: the lazily built model and its sharding plan, and the proxy
 * steps ({@link StepTrace}) that give the collectives and the activations. Every dp, ZeRO stage, batch and seq is
 * then arithmetic ({@link SizingPlan#of(SizingPlan.Request, ProxyTrace)}), which is what lets {@code plan --fit}
 * try many layouts for the cost of one trace per tp.
 *
 * @param base      the smallest probe window; {@code probes} are base, 2 x batch, 2 x seq (the communication probes)
 * @param traced    the sizing proxy's steps at the four {@link ActivationFit#windows} of base (the first three are the probes)
 * @param peakBytes the most tensor memory the proxies' steps held at once (all their ranks together)
 */
public record ProxyTrace(ModelZoo.Family family, String config, int tp, Module lazyModel, ShardingPlan sharding,
                         StepTrace.Window base, List<StepTrace.Window> probes, ModelZoo.ProxyShape shape, StepTrace.Result traced,
                         ActivationSizing activations, long peakBytes) {

    /**
     * Traces {@code config} at {@code tp}. {@code serialPerLayer}: the middle layer's bytes at tp 1 when already
     * measured (tp 1's {@code activations().perLayer()}), else null and measured here for tp > 1. Fails naming the
     * culprits when the rules cannot shard the config at this tp.
     */
    public static ProxyTrace of(ModelZoo.Family family, String config, int tp, ActivationFit serialPerLayer) {
        return of(family, config, tp, serialPerLayer, true);
    }

    /**
     * As {@link #of(ModelZoo.Family, String, int, ActivationFit)}; without {@code activations} only the communication
     * probes are traced (what a run's header needs: three proxy steps, not the activation proxies' dozen) and
     * {@link #activations()} is null.
     */
    public static ProxyTrace of(ModelZoo.Family family, String config, int tp, ActivationFit serialPerLayer, boolean activations) {
        Module model = family.buildLazily(config);
        LanguageModel lm = family.languageModel(model);
        ShardingPlan sharding = TpDegrees.require(family, config, model, tp);
        int unit = tp * lm.windowStep();
        // batch 2: at batch 1 some [b, s, h] layouts are views that are copies at any larger batch (4 per GPT-2 layer)
        StepTrace.Window base = new StepTrace.Window(2, Math.ceilDiv(SizingPlan.MIN_PROBE_SEQ, unit) * unit);
        List<StepTrace.Window> windows = activations ? ActivationFit.windows(base) : TokenScaling.probes(base);
        int longest = windows.stream().mapToInt(StepTrace.Window::seq).max().orElseThrow();
        // the model's own positions: a position table's gradient is a step temporary as large as the table
        ModelZoo.ProxyShape shape = new ModelZoo.ProxyShape(ProxyLayers.MAX_LAYERS, SizingPlan.PROXY_VOCAB_PER_TP * tp,
                Math.max(longest, lm.maxSequenceLength()));
        // the proxy's cost, to show that sizing is cheap; MemoryStats is per JVM, so this includes anything run alongside
        long liveBefore = MemoryStats.liveBytes();
        MemoryStats.resetPeak();
        // activations are traced without sequence parallelism, which ActivationLayouts models on top (a traced SP step
        // would be split twice); the proxies that separate a layer and a vocabulary entry from the rest:
        ModelZoo.Family plain = family.withoutSequenceParallel();
        List<StepTrace.Proxy> proxies = new ArrayList<>(List.of(new StepTrace.Proxy(family, shape)));
        if (activations) {
            if (family.rules().sequenceParallel()) {
                proxies.add(new StepTrace.Proxy(plain, shape));
            }
            proxies.addAll(ActivationSizing.proxies(plain, shape));
        }
        List<StepTrace.Result> results = StepTrace.runProxies(config, proxies, tp, windows);
        StepTrace.Result traced = results.get(0);
        ActivationSizing sized = null;
        if (activations) {
            StepTrace.Result plainTraced = results.get(proxies.size() - 3);
            ActivationFit serial = tp == 1 || serialPerLayer != null ? serialPerLayer
                    : ActivationSizing.serialPerLayer(plain, config, shape, windows);
            long vocabulary = (long) Math.ceilDiv(lm.vocabSize(), tp) * tp;
            sized = ActivationSizing.of(tp, model, shape, windows, plainTraced, results.subList(proxies.size() - 2, proxies.size()),
                    vocabulary, serial);
        }
        long peak = MemoryStats.peakBytes() - liveBefore;
        return new ProxyTrace(family, config, tp, model, sharding, base, TokenScaling.probes(base), shape, traced, sized, peak);
    }

    /** Whether a parameter of the model (its name) gets a gradient: its proxy counterpart got one in the traced steps. */
    java.util.function.Predicate<String> getsGradient() {
        ProxyLayers layers = new ProxyLayers(LayerStacks.of(lazyModel), traced.stacks());
        return name -> !traced.withoutGradient().contains(layers.proxyPath(name));
    }

    /** The collectives of the communication probes (the first three windows). */
    List<List<io.colo4j.tensor.colo.CommTrace.Record>> probeTraces() {
        return traced.windows().subList(0, 3);
    }
}

package io.colo4j.zoo.sizing;

import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * A config's activation memory per rank at one tp degree and one activation layout (recompute, sequence parallelism),
 * from traced proxies rather than a formula: the peak of a training step's step-scoped bytes (activations and backward
 * temporaries; parameters, their gradients and optimizer state are {@link io.colo4j.zoo.memory.MemoryPerRank}'s),
 * fitted over five windows ({@link ActivationFit}) and split into what one middle layer holds and what the rest of the
 * model holds, so it scales to the model's layer count, vocabulary, batch and seq. Proxies at {@code tp}, their steps run
 * under the layout: the sizing proxy (min(layers, 3) per stack, vocabulary V) and one of a single layer per stack (the
 * difference is the layers between); a vocabulary entry's worth (logits, their gradient, the head's and the embedding's
 * weight gradients, the same in every layout) from the single-layer proxy at 2V less at V, per phase (the end of the
 * forward holds the logits, the head's backward their gradient and its weight's, the embedding's backward its own). A
 * phase whose peak at the small vocabulary is another event (a layer's scores) is then sized high by that event, never
 * low. A step's peak under any layout is of that form: full
 * recompute keeps each layer's input and, at its peak, one layer's activations, which the difference of the two proxies
 * counts per layer and once; selective recompute holds one layer's attention core at a time, the same way. Each
 * {@linkplain StepTrace.Phases phase} of the step is sized apart and the step's peak is the larger at the window asked
 * for: a small window may peak at the head's backward where the model's window peaks in a recomputed layer.
 *
 * @param layers the model's layers, all stacks together
 * @param phases per phase of the step, its figures
 */
public record ActivationSizing(int tp, int layers, List<Phase> phases) {
    public ActivationSizing {
        phases = List.copyOf(phases);
    }

    /**
     * One phase of the step.
     *
     * @param perLayer      one middle layer's bytes per rank
     * @param outsideLayers embeddings, final norm, head and loss, and whatever the phase holds once whatever its layer count
     */
    public record Phase(ActivationFit perLayer, ActivationFit outsideLayers) {
        /** The model's step-scoped bytes per rank in this phase, all {@code layers}. */
        public ActivationFit total(int layers) {
            return outsideLayers.plus(perLayer.times(layers));
        }
    }

    /** Bytes per rank at {@code batch} sequences of {@code seq} tokens: the larger phase's. */
    public long bytesPerRank(long batch, long seq) {
        double most = 0;
        for (Phase p : phases) {
            most = Math.max(most, p.total(layers).at(batch, seq));
        }
        return Math.round(most);
    }

    private static final List<ToLongFunction<StepTrace.Phases>> PHASES = List.of(StepTrace.Phases::layers, StepTrace.Phases::forward,
            StepTrace.Phases::toFirstGradient, StepTrace.Phases::afterFirstGradient);

    /** The proxy that separates a vocabulary entry from the rest: one layer per stack at twice the sizing proxy's vocabulary. */
    static ModelZoo.ProxyShape wideVocabulary(ModelZoo.ProxyShape shape) {
        return new ModelZoo.ProxyShape(1, 2 * shape.vocabSize(), shape.positions());
    }

    /** One vocabulary entry's bytes per phase: the single-layer proxy's steps at 2V ({@code wide}) less at V ({@code one}). */
    static List<ActivationFit> perEntry(List<StepTrace.Window> windows, StepTrace.Result one, StepTrace.Result wide, ModelZoo.ProxyShape shape) {
        return PHASES.stream().map(p -> fit(windows, wide, p).stepBytes.minus(fit(windows, one, p).stepBytes).times(1.0 / shape.vocabSize()))
                .toList();
    }

    /**
     * Sizes a config at {@code tp} from its proxies' steps under one layout at the fit {@code windows}: the sizing proxy's
     * ({@code sizing}, built at {@code shape}) and the single-layer one's ({@code oneLayer}); {@code perEntry}: a vocabulary
     * entry's bytes per phase; {@code vocabulary}: the model's, padded to tp as the vocabulary-parallel layers pad it.
     */
    static ActivationSizing of(int tp, Module lazyModel, ModelZoo.ProxyShape shape, List<StepTrace.Window> windows,
                               StepTrace.Result sizing, StepTrace.Result oneLayer, List<ActivationFit> perEntry, long vocabulary) {
        int layers = layers(LayerStacks.of(lazyModel));
        List<Phase> sized = new ArrayList<>();
        for (int i = 0; i < PHASES.size(); i++) {
            Traced proxy = fit(windows, sizing, PHASES.get(i));
            ActivationFit perLayer = perLayer(proxy, fit(windows, oneLayer, PHASES.get(i)));
            ActivationFit total = proxy.stepBytes.plus(perLayer.times(layers - layers(sizing.stacks())))
                    .plus(perEntry.get(i).times(vocabulary - shape.vocabSize()));
            sized.add(new Phase(perLayer, total.minus(perLayer.times(layers))));
        }
        return new ActivationSizing(tp, layers, sized);
    }

    /**
     * One layer: the difference of two proxies over the layers one has more than the other. Proxies with the same
     * layers (a model of one layer per stack) cannot tell a layer from the rest: the layers then stand for all of it.
     */
    private static ActivationFit perLayer(Traced more, Traced fewer) {
        int extra = layers(more.stacks) - layers(fewer.stacks);
        if (extra == 0) {
            return more.stepBytes.times(1.0 / Math.max(layers(more.stacks), 1));
        }
        return more.stepBytes.minus(fewer.stepBytes).times(1.0 / extra);
    }

    private static int layers(LayerStacks stacks) {
        return stacks.layers().values().stream().mapToInt(Integer::intValue).sum();
    }

    private record Traced(ActivationFit stepBytes, LayerStacks stacks) {}

    /** A proxy's bytes in one phase of its steps, fitted over the windows. */
    private static Traced fit(List<StepTrace.Window> windows, StepTrace.Result r, ToLongFunction<StepTrace.Phases> phase) {
        return new Traced(ActivationFit.of(windows, r.phasePeaks().stream().map(phase::applyAsLong).toList()), r.stacks());
    }
}

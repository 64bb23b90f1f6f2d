package io.colo4j.zoo.sizing;

import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Normalization;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.ModelZoo;
import java.util.List;

/**
 * A config's activation memory per rank at one tp degree, from traced proxies rather than a formula: the peak of
 * a training step's step-scoped bytes (activations and backward temporaries; parameters, their gradients and
 * optimizer state are {@link io.colo4j.zoo.memory.MemoryPerRank}'s), fitted over four windows
 * ({@link ActivationFit}) and split into what one middle layer holds and what the rest of the model holds, so it
 * scales to the model's layer count, vocabulary, batch and seq. Three proxies at {@code tp}: the sizing proxy
 * (min(layers, 3) per stack, vocabulary V), one of a single layer per stack (the difference is the layers between)
 * and the same at vocabulary 2V (the difference is V entries' worth: logits, their softmax and gradient); for
 * sequence parallelism two more at tp 1 (two layers and one). What recompute and sequence parallelism make of these figures is {@link ActivationLayouts}'s.
 *
 * @param perLayer         one middle layer's bytes per rank
 * @param outsideLayers    embeddings, final norm, head and loss: everything not in a layer
 * @param layers           the model's layers, all stacks together
 * @param blockInputBytesPerToken what full recompute keeps per layer and token: one hidden vector (float32), whole
 * @param serialPerLayer   the middle layer's bytes at tp 1 (null at tp 1): with {@code perLayer} it tells how much of a
 *                         layer's activations is replicated over tp, the part sequence parallelism splits
 */
public record ActivationSizing(int tp, ActivationFit perLayer, ActivationFit outsideLayers, int layers,
                               long blockInputBytesPerToken, ActivationFit serialPerLayer) {

    /** The model's step-scoped bytes per rank, all layers. */
    public ActivationFit total() {
        return outsideLayers.plus(perLayer.times(layers));
    }

    /**
     * Bytes per token of one layer that every tp rank holds whole (LayerNorm inputs and outputs, dropout masks,
     * residual sums): from {@code perToken} at tp and at 1, {@code r + s / tp} and {@code r + s}.
     */
    public double replicatedPerLayerPerToken() {
        if (tp == 1 || serialPerLayer == null) {
            return perLayer.perToken();
        }
        double r = (tp * perLayer.perToken() - serialPerLayer.perToken()) / (tp - 1);
        return Math.clamp(r, 0, perLayer.perToken());
    }

    /** The proxies {@link #of} needs besides the sizing proxy of {@code shape}: one layer per stack, at its vocabulary and at twice it. */
    static List<StepTrace.Proxy> proxies(ModelZoo.Family family, ModelZoo.ProxyShape shape) {
        // the cheapest proxies that separate layers and vocabulary
        return List.of(new StepTrace.Proxy(family, shape.withLayers(1)),
                new StepTrace.Proxy(family, new ModelZoo.ProxyShape(1, 2 * shape.vocabSize(), shape.positions())));
    }

    /**
     * Sizes a config at {@code tp} from its proxies' steps at the fit {@code windows}: the sizing proxy's ({@code sizing},
     * built at {@code shape}) and those of {@link #proxies} ({@code oneLayer}, in that order). {@code vocabulary}: the
     * model's, padded to tp as the vocabulary-parallel layers pad it.
     */
    static ActivationSizing of(int tp, Module lazyModel, ModelZoo.ProxyShape shape, List<StepTrace.Window> windows,
                               StepTrace.Result sizing, List<StepTrace.Result> oneLayer, long vocabulary, ActivationFit serialPerLayer) {
        ActivationFit proxy = ActivationFit.of(windows, sizing.stepPeakBytesPerRank());
        Traced one = fit(windows, oneLayer.get(0));
        Traced oneWide = fit(windows, oneLayer.get(1));
        ActivationFit perEntry = oneWide.stepBytes.minus(one.stepBytes).times(1.0 / shape.vocabSize());
        ActivationFit perLayer = perLayer(new Traced(proxy, sizing.stacks()), one);
        int layers = layers(LayerStacks.of(lazyModel));
        ActivationFit total = proxy.plus(perLayer.times(layers - layers(sizing.stacks())))
                .plus(perEntry.times(vocabulary - shape.vocabSize()));
        return new ActivationSizing(tp, perLayer, total.minus(perLayer.times(layers)), layers, hiddenSize(lazyModel) * Float.BYTES,
                serialPerLayer);
    }

    /** A middle layer's bytes at tp 1, for {@link #replicatedPerLayerPerToken()}: proxies of two layers and of one. */
    static ActivationFit serialPerLayer(ModelZoo.Family family, String config, ModelZoo.ProxyShape shape, List<StepTrace.Window> windows) {
        List<StepTrace.Result> r = StepTrace.runProxies(config, List.of(new StepTrace.Proxy(family, shape.withLayers(2)),
                new StepTrace.Proxy(family, shape.withLayers(1))), 1, windows);
        return perLayer(fit(windows, r.get(0)), fit(windows, r.get(1)));
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

    private static Traced fit(List<StepTrace.Window> windows, StepTrace.Result r) {
        return new Traced(ActivationFit.of(windows, r.stepPeakBytesPerRank()), r.stacks());
    }

    /** The hidden size: the features of the model's first normalisation (every block's norms and the final one share it). */
    private static long hiddenSize(Module model) {
        for (Module m : model.namedModules().values()) {
            if (m instanceof Normalization) {
                for (Parameter p : m.localParameters().values()) {
                    return Shapes.numel(p.shape());
                }
            }
        }
        throw new IllegalArgumentException(model.getClass().getSimpleName() + " has no normalisation module to read its hidden size from");
    }
}

package io.colo4j.zoo.sizing;

import java.util.Map;

/**
 * How a proxy's layers stand for the model's. A proxy keeps up to {@link #MAX_LAYERS} layers of each
 * stack: its first layer stands for the model's first, its last for the model's last, and the one in
 * between for every other layer. First and last get their own because a layer at either end may
 * communicate differently (T5's decoder block 0 also reduces the gradient of the encoder output that
 * every cross-attention reads); all layers in between are taken to be alike.
 */
public final class ProxyLayers {
    /** Layers a proxy keeps per stack: first, one in the middle, last. */
    public static final int MAX_LAYERS = 3;

    private final LayerStacks model;
    private final LayerStacks proxy;

    public ProxyLayers(LayerStacks model, LayerStacks proxy) {
        if (!model.layers().keySet().equals(proxy.layers().keySet())) {
            throw new IllegalArgumentException("the proxy's layer stacks " + proxy.layers().keySet() + " are not the model's "
                    + model.layers().keySet());
        }
        model.layers().forEach((stack, n) -> {
            int kept = proxy.layers().get(stack);
            if (kept != Math.min(n, MAX_LAYERS)) {
                throw new IllegalArgumentException("the proxy keeps " + kept + " layers of " + stack + ", not min(" + n + ", "
                        + MAX_LAYERS + ")");
            }
        });
        this.model = model;
        this.proxy = proxy;
    }

    public LayerStacks model() {
        return model;
    }

    public LayerStacks proxy() {
        return proxy;
    }

    /** The model's first and last layer (inclusive) that proxy layer {@code proxyIndex} of {@code stack} stands for. */
    public int[] modelRange(String stack, int proxyIndex) {
        int n = model.layers().get(stack);
        int kept = proxy.layers().get(stack);
        if (proxyIndex == 0) {
            return new int[] {0, 0};
        }
        if (proxyIndex == kept - 1) {
            return new int[] {n - 1, n - 1};
        }
        return new int[] {1, n - 2};
    }

    /** The proxy layer that stands for layer {@code modelIndex} of {@code stack}. */
    public int proxyIndex(String stack, int modelIndex) {
        int n = model.layers().get(stack);
        int kept = proxy.layers().get(stack);
        return modelIndex == 0 ? 0 : modelIndex == n - 1 ? kept - 1 : 1;
    }

    /** The proxy's path for a model module or parameter path (the same outside the stacks). */
    public String proxyPath(String modelPath) {
        return model.locate(modelPath).map(l -> l.inLayer(proxyIndex(l.stack(), l.index()))).orElse(modelPath);
    }
}

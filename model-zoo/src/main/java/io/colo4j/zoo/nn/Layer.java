package io.colo4j.zoo.nn;

import io.colo4j.ops.nn.Linear;
import io.colo4j.tensor.nn.Module;

/**
 * A module of a zoo family that knows its family's config and its dotted path in the model (the path
 * seeds its parameters and names its dropout sites, so values do not depend on construction order).
 */
public abstract class Layer<C> extends Module {
    protected final C config;
    protected final String path;

    protected Layer(C config, String path) {
        this.config = config;
        this.path = path;
    }

    /** Registers a Linear under {@code name}; its path (which seeds it) is this layer's path + "." + name. */
    protected final Linear registerLinear(String name, int in, int out, boolean bias, float std, long seed) {
        return registerModule(name, new Linear(path + "." + name, in, out, bias, std, seed));
    }
}

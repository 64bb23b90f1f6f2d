package io.colo4j.tensor.autograd;

import io.colo4j.tensor.Tensor;

/** The node of the autograd graph that produced a tensor: its op name, inputs and backward rule. */
public final class GradFn {
    private final String name;
    private final Tensor[] inputs;
    private BackwardFn backward;

    GradFn(String name, Tensor[] inputs, BackwardFn backward) {
        this.name = name;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String name() {
        return name;
    }

    Tensor[] inputs() {
        return inputs;
    }

    Tensor[] apply(Tensor gradOutput) {
        if (backward == null) {
            throw new IllegalStateException("backward through '" + name
                    + "' a second time: its graph was released after the first backward");
        }
        Tensor[] grads = backward.apply(gradOutput);
        if (grads.length != inputs.length) {
            throw new IllegalStateException("backward of '" + name + "' returned " + grads.length
                    + " gradients for " + inputs.length + " inputs");
        }
        return grads;
    }

    /** True once backward has run through this node (its graph can no longer be extended). */
    public boolean isReleased() {
        return backward == null;
    }

    /** Drops what the backward closure captured (saved activations) so it can be collected. */
    void release() {
        backward = null;
    }
}

package io.colo4j.tensor;

import io.colo4j.tensor.autograd.Autograd;
import io.colo4j.tensor.autograd.GradMode;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Activation checkpointing (torch.utils.checkpoint): a function of some tensors whose forward keeps nothing but
 * its inputs and its output, and whose backward runs it again with grad on and backpropagates through that.
 *
 * <p>The forward runs without recording, in a scope of its own ({@link MemoryScope#openAside()}) whose memory is
 * freed as soon as the output is copied out, so the function's activations never add to the step's. Backward
 * reruns it in such a scope too: the recomputed graph, its activations and intermediate gradients are freed once
 * the inputs' gradients are copied out (parameter gradients accumulate as in any backward, being long-lived). The
 * rerun computes the same bits as the first run: the same ops on the same inputs, dropout masks counter-based in
 * (seed, step, site, index), ColoTensor collectives issued again (as Megatron's recompute does).
 *
 * <p>An input whose consumers inside take its shared gradient-reduction region (a ColoTensor's copy-to-tp, see
 * {@link Distribution#hasSharedRegion}) keeps that region outside: the function's partial gradients for it come out
 * through the input's region in the enclosing graph, shared with its consumers elsewhere (T5's encoder output read
 * by every decoder layer), and are reduced once there, so the sum runs in the order it does without recompute
 * (exactly so while a layer takes an input's region once, as every zoo family does: two consumers of it inside one
 * layer would be summed inside first, the same value up to rounding).
 *
 * <p>Every tensor the function reads that may need a gradient and is not a parameter (a leaf) must be one of its
 * {@code inputs}: a captured non-leaf would make the rerun's backward run on into the rest of the model.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** {@code fn(inputs)}, recomputed in backward; {@code name} labels the graph node. */
    public static Tensor apply(String name, Function<Tensor[], Tensor> fn, Tensor... inputs) {
        if (!GradMode.isEnabled() || Arrays.stream(inputs).noneMatch(t -> t != null && t.requiresGrad())) {
            return fn.apply(inputs);
        }
        Tensor output;
        boolean[] regional = new boolean[inputs.length];
        try (MemoryScope aside = MemoryScope.openAside(); GradMode.Guard noGrad = GradMode.disabled()) {
            Tensor[] leaves = leaves(inputs);
            Tensor y = fn.apply(leaves);
            for (int i = 0; i < inputs.length; i++) {
                regional[i] = leaves[i] != null && leaves[i].requiresGrad() && leaves[i].distribution != null
                        && leaves[i].distribution.hasSharedRegion();
            }
            try (MemoryScope outer = MemoryScope.outer()) {
                output = placedCopy(y);
            }
        }
        // the graph node's inputs: the inputs, then the shared region of each regional one (made here, in the step's graph)
        Tensor[] slots = Arrays.copyOf(inputs, inputs.length * 2);
        for (int i = 0; i < inputs.length; i++) {
            slots[inputs.length + i] = regional[i] ? inputs[i].distribution.sharedRegion(inputs[i]) : null;
        }
        return Autograd.record("checkpoint " + name, output, gradOutput -> recompute(fn, inputs, slots, regional, gradOutput), slots);
    }

    private static Tensor[] recompute(Function<Tensor[], Tensor> fn, Tensor[] inputs, Tensor[] slots, boolean[] regional, Tensor gradOutput) {
        int n = inputs.length;
        Tensor[] grads = new Tensor[2 * n];
        try (MemoryScope aside = MemoryScope.openAside()) {
            Tensor[] leaves = Arrays.copyOf(leaves(inputs), 2 * n);
            Tensor y;
            try (GradMode.Guard grad = GradMode.enabled()) {
                for (int i = 0; i < n; i++) {
                    if (regional[i]) {
                        // the consumers inside take an identity over a leaf of its own: its gradient is their partial sum
                        // the region's own data and placement: the input itself for a copy_to_tp, the gathered whole for a
                        // sequence-parallel gather
                        Tensor made = slots[n + i];
                        leaves[n + i] = detached(made, true);
                        Tensor region = Autograd.record("shared region (reduced outside the checkpoint)", detached(made, false),
                                g -> new Tensor[] {g}, leaves[n + i]);
                        leaves[i].distribution.useSharedRegion(region);
                    }
                }
                y = fn.apply(leaves);
            }
            Tensor[] local = y.requiresGrad() ? Autograd.gradients(y, gradOutput, leaves) : new Tensor[2 * n];
            try (MemoryScope outer = MemoryScope.outer()) {
                for (int i = 0; i < 2 * n; i++) {
                    grads[i] = local[i] == null ? null : placedCopy(local[i]);
                }
            }
        }
        return grads;
    }

    /** The inputs as leaves over the same data and placement, needing a gradient where the input does. */
    private static Tensor[] leaves(Tensor[] inputs) {
        Tensor[] out = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            out[i] = inputs[i] == null ? null : detached(inputs[i], inputs[i].requiresGrad());
        }
        return out;
    }

    /** Shares {@code t}'s data and placement (a fresh distribution, as a copy gets), not its graph. */
    private static Tensor detached(Tensor t, boolean requiresGrad) {
        Tensor out = t.detach().requiresGrad(requiresGrad);
        out.distribution = t.distribution == null ? null : t.distribution.forCopy();
        return out;
    }

    /** A contiguous copy of {@code t} with its placement, allocated where the current scope allocates. */
    private static Tensor placedCopy(Tensor t) {
        Tensor out = t.copy();
        out.distribution = t.distribution == null ? null : t.distribution.forCopy();
        return out;
    }
}

package io.colo4j.zoo.sizing;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The parameters and gradients of a sizing proxy built without values, on one rank: each a view of one zero block, as
 * large as the largest parameter. Every parameter of such a proxy is zero and nothing writes it; every gradient is
 * zero ({@link ProxyKernels}), so backward skips adding it into its view ({@link Tensor#skipGradAccumulation}), and
 * the buffers a backward makes a weight's gradient in are views of the block as well; so the views may overlap and
 * keep holding zeros. What a step holds at its peak is step-scoped memory, which this does not touch. What it saves, per parameter:
 * its shard allocated (a cached block zero-filled again: every page touched), and per window a long-lived gradient
 * allocated, its fresh pages faulted in and the step's gradient copied into it (a 7B-wide proxy's 2.4 GB, four times,
 * was most of {@code plan --fit}'s time). Which parameters got a gradient, which a gradient that is never null can no
 * longer tell, is recorded by a hook on each ({@link Tensor#addGradHook}: every accumulation runs it).
 */
final class SharedZeros {
    private final Tensor block;
    private final Set<Tensor> accumulated = Collections.newSetFromMap(new IdentityHashMap<>());

    private SharedZeros(Tensor block) {
        this.block = block;
    }

    /** Gives each of {@code model}'s parameters, laid out already, its views of a new zero block as its data and gradient. */
    static SharedZeros install(Module model) {
        long largest = 1;
        for (Parameter p : model.parameters()) {
            largest = Math.max(largest, Shapes.numel(p.localShape()));
        }
        Tensor block;
        try (MemoryScope persistent = MemoryScope.persistent()) {
            block = Tensor.zeros(Math.toIntExact(largest));
        }
        // a backward's weight gradient buffers are views of it too: zeros written over zeros, as the gradients are
        block.storage().makeGradientBuffersWith(shape -> block.narrow(0, 0, Math.toIntExact(Shapes.numel(shape))).view(shape));
        SharedZeros shared = new SharedZeros(block);
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter p : model.parameters()) {
            if (seen.add(p)) {
                int[] shape = p.localShape();
                Tensor view = block.narrow(0, 0, Math.toIntExact(Shapes.numel(shape))).view(shape);
                if (!p.isMaterialized()) {
                    p.setData(view); // first: materialising (or setting data) drops the gradient
                }
                p.setGrad(view);
                p.skipGradAccumulation(); // zeros into zeros: a memory pass per gradient and window (42% of --fit for Llama-7B)
                p.addGradHook(shared.accumulated::add);
            }
        }
        return shared;
    }

    /** Whether backward added a gradient to {@code p} (its real gradient would not be null). */
    boolean accumulated(Parameter p) {
        return accumulated.contains(p);
    }

    /** Frees the block (the parameters' views of it must not be used any more). */
    void free() {
        block.freeStorage();
    }
}

package io.colo4j.examples;

import io.colo4j.ops.F;
import io.colo4j.ops.nn.Dropout;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.ops.nn.LayerNorm;
import io.colo4j.ops.nn.Linear;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;

/**
 * The README's "Your own model": a model that is not in the zoo, built from the layers beside Module, with its own
 * module names (embed, norm, up, down, drop) that {@code tiny-lm.rules.json} beside this class matches.
 */
public final class TinyLm extends Module {
    final Embedding embed;
    final LayerNorm norm;
    final Linear up;
    final Linear down;
    final Dropout drop;

    public TinyLm(int vocab, int d) {
        embed = registerModule("embed", new Embedding(vocab, d, Init.normal(1, 0, 0.5f)));
        norm = registerModule("norm", new LayerNorm(d, 1e-5f));
        up = registerModule("up", new Linear(d, 4 * d, true, Init.normal(2, 0, 0.3f)));     // torch layout [out, in]
        down = registerModule("down", new Linear(4 * d, d, true, Init.normal(3, 0, 0.3f)));
        drop = registerModule("drop", new Dropout(0.1f, "drop"));
    }

    /** Mean next-token cross-entropy; {@code stepSeed} ({@code DropoutSeeds.step(seed, step)}) draws the dropout mask. */
    public Tensor loss(IntTensor ids, IntTensor targets, long stepSeed) {
        Tensor x = embed.forward(ids);
        x = F.add(x, drop.forward(down.forward(F.gelu(up.forward(norm.forward(x)))), stepSeed));
        return F.crossEntropy(F.linear(x, embed.weight(), null), targets);
    }
}

package io.colo4j.tests;

import io.colo4j.ops.F;
import io.colo4j.ops.dist.GptStack;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;

/**
 * A GPT2LMHeadModel-shaped model written as plain serial code: ops' {@link GptStack} (built from
 * {@code io.colo4j.ops.nn} layers, which declare their {@link io.colo4j.tensor.nn.WeightLayout}) under {@code transformer}, so it has
 * the zoo GPT-2's parameter paths ({@code transformer.wte.weight}, {@code transformer.h.0.attn.c_attn.weight},
 * ...) and the shipped gpt2.rules.json applies to it. It checks the rules end to end independently of the
 * zoo model; its loss adds the positions by broadcasting and keeps the logits 3-d.
 */
final class LayoutAwareGpt2 extends Module {
    final int vocab;
    final GptStack transformer;

    LayoutAwareGpt2(int vocab, int positions, int d, int layers, int heads) {
        this.vocab = vocab;
        this.transformer = registerModule("transformer", new GptStack(vocab, positions, d, layers, heads));
    }

    Tensor loss(IntTensor ids, IntTensor targets) {
        int b = ids.shape()[0];
        int t = ids.shape()[1];
        int[] positions = new int[t];
        for (int i = 0; i < t; i++) {
            positions[i] = i;
        }
        Tensor x = F.add(transformer.wte.forward(ids), transformer.wpe.forward(IntTensor.of(positions, t)));
        for (GptStack.Block block : transformer.h) {
            x = block.forward(x, b, t);
        }
        Tensor logits = F.linear(transformer.lnF.forward(x), transformer.wte.weight(), null);
        return F.crossEntropy(logits, targets);
    }
}

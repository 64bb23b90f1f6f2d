package io.colo4j.zoo.generate;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.zoo.hf.CausalLm;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.zoo.train.LanguageModel;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Continues prompts with a causal LM, one token at a time. With the cache the prompt is read once (prefill) and
 * each new token is one forward of that token over the cached keys and values: O(context) per token. Without it
 * (for comparison and tests) every token reruns the whole prefix. At tp every rank runs the same loop on its
 * shards (the same collectives as a training forward: one all-reduce per block and sub-layer), gathers only the
 * last position's logits, and picks the same token.
 */
public final class Generator {
    /** @param cache false reruns the whole prefix for every token (the reference the cached path is tested against) */
    public record Options(int maxNewTokens, Sampling sampling, boolean cache) {
        public Options {
            if (maxNewTokens < 1) {
                throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens);
            }
        }
    }

    private final LanguageModel model;
    private final CausalLm lm;

    /** {@code model}'s module must be a {@link CausalLm} (GPT-2, OPT, Llama). */
    public Generator(LanguageModel model) {
        if (!(model.module() instanceof CausalLm causal)) {
            throw new IllegalArgumentException(model.module().getClass().getSimpleName() + " is not a causal LM: generate takes the"
                    + " families whose model continues a sequence (gpt2, opt, llama)");
        }
        this.model = model;
        this.lm = causal;
    }

    /**
     * Refuses {@code prompt} (the {@code index}-th, for messages) unless every id is in the vocabulary and the prompt
     * plus {@code maxNewTokens} fit the model's positions (the last new token is never read, so P + N - 1).
     */
    public void check(int[] prompt, int index, int maxNewTokens) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt " + index + " is empty");
        }
        for (int id : prompt) {
            if (id < 0 || id >= model.vocabSize()) {
                throw new IllegalArgumentException("prompt " + index + ": token id " + id + " is outside the model's vocabulary of "
                        + model.vocabSize() + " ids");
            }
        }
        int needed = prompt.length + maxNewTokens - 1;
        if (needed > model.maxSequenceLength()) {
            throw new IllegalArgumentException("prompt " + index + " has " + prompt.length + " tokens; with " + maxNewTokens
                    + " new ones the model reads " + needed + " positions, more than its " + model.maxSequenceLength()
                    + " (use a shorter prompt or fewer --max-new-tokens)");
        }
    }

    /** The new tokens after prompt number {@code index}; {@code onToken} sees each as soon as it is picked. */
    public int[] generate(int[] prompt, int index, Options options, IntConsumer onToken) {
        check(prompt, index, options.maxNewTokens());
        boolean wasTraining = model.module().isTraining();
        model.module().eval();
        int[] sequence = Arrays.copyOf(prompt, prompt.length + options.maxNewTokens());
        int length = prompt.length;
        KvCache cache = options.cache() ? new KvCache() : null;
        try (GradMode.Guard ignored = GradMode.disabled()) {
            for (int i = 0; i < options.maxNewTokens(); i++) {
                int from = cache == null ? 0 : cache.length();
                int[] input = Arrays.copyOfRange(sequence, from, length);
                float[] logits;
                try (MemoryScope scope = MemoryScope.open()) {
                    logits = lastLogits(lm.forward(IntTensor.of(input, 1, input.length), cache));
                }
                int next = options.sampling().next(logits, index, i);
                sequence[length++] = next;
                onToken.accept(next);
            }
        } finally {
            model.module().train(wasTraining);
        }
        return Arrays.copyOfRange(sequence, prompt.length, length);
    }

    /** The last position's logits [B=1, T, vocab] as one float per vocabulary id, gathered when vocab-parallel. */
    private static float[] lastLogits(Tensor logits) {
        int t = logits.globalShape()[1];
        Tensor last = logits.narrow(1, t - 1, 1);
        return last.full().toFloatArray();
    }
}

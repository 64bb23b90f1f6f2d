package io.colo4j.zoo.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.CausalLm;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.hf.Parity;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.zoo.train.Evaluation;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decode loop on the PyTorch reference folders of every causal family (GPT-2 both key styles, OPT pre- and
 * post-LN, Llama with and without grouped-query attention): greedy tokens are the argmax of the full model rerun on
 * the whole prefix, the KV-cached logits are the uncached ones, sampling is a function of its seed.
 */
class GeneratorTest {
    private static final String FOLDERS = """
            gpt2,  hub
            gpt2,  prefixed
            opt,   pre
            opt,   post
            llama, gqa
            llama, mha
            """;

    static LanguageModel load(String family, String style) throws IOException {
        Path dir = Parity.fixture("/" + family + "-ref", style);
        HfFamilyOps hf = ModelZoo.family(family).requireHf();
        Module model = hf.build(hf.withDropout(hf.readConfig(dir), 0f), 0L);
        hf.loadWeights(model, dir);
        model.eval();
        return hf.languageModel(model);
    }

    /** The first {@code n} ids of each line of the family's tokens.txt. */
    static List<int[]> prompts(String family, int n) throws IOException {
        List<int[]> out = new ArrayList<>();
        for (int[] line : Evaluation.readTokenLines(Parity.fixture("/" + family + "-ref", "tokens.txt"))) {
            out.add(Arrays.copyOf(line, n));
        }
        return out;
    }

    /** The last position's logits of the model rerun on all of {@code ids}, without a cache. */
    private static float[] fullRecompute(LanguageModel lm, int[] ids) {
        try (GradMode.Guard ignored = GradMode.disabled()) {
            Tensor logits = ((CausalLm) lm.module()).forward(IntTensor.of(ids, 1, ids.length), null);
            return logits.narrow(1, ids.length - 1, 1).toFloatArray();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(textBlock = FOLDERS)
    void greedyTokensAreTheArgmaxOfTheFullModelOnEachPrefix(String family, String style) throws IOException {
        LanguageModel lm = load(family, style);
        Generator generator = new Generator(lm);
        for (int[] prompt : prompts(family, 5)) {
            List<Integer> streamed = new ArrayList<>();
            int[] cached = generator.generate(prompt, 1, new Generator.Options(10, Sampling.GREEDY, true), streamed::add);
            int[] uncached = generator.generate(prompt, 1, new Generator.Options(10, Sampling.GREEDY, false), id -> { });
            int[] sequence = prompt.clone();
            int[] expected = new int[10];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = Sampling.argmax(fullRecompute(lm, sequence));
                sequence = Arrays.copyOf(sequence, sequence.length + 1);
                sequence[sequence.length - 1] = expected[i];
            }
            assertThat(cached).as("%s %s, prompt %s", family, style, Arrays.toString(prompt)).containsExactly(expected);
            assertThat(uncached).containsExactly(expected);
            assertThat(streamed).containsExactly(Arrays.stream(expected).boxed().toArray(Integer[]::new));
        }
    }

    /** Prefill of 5 tokens, then one at a time: each position's logits are those of the whole sequence read at once. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(textBlock = FOLDERS)
    void cachedLogitsAreTheUncachedOnes(String family, String style) throws IOException {
        LanguageModel lm = load(family, style);
        CausalLm causal = (CausalLm) lm.module();
        int[] ids = Evaluation.readTokenLines(Parity.fixture("/" + family + "-ref", "tokens.txt")).get(1);
        int n = Math.min(ids.length, 16);
        try (GradMode.Guard ignored = GradMode.disabled()) {
            float[] whole = causal.forward(IntTensor.of(Arrays.copyOf(ids, n), 1, n), null).toFloatArray();
            int vocab = whole.length / n;
            KvCache cache = new KvCache();
            List<float[]> rows = new ArrayList<>();
            float[] prefill = causal.forward(IntTensor.of(Arrays.copyOf(ids, 5), 1, 5), cache).toFloatArray();
            for (int p = 0; p < 5; p++) {
                rows.add(Arrays.copyOfRange(prefill, p * vocab, (p + 1) * vocab));
            }
            for (int p = 5; p < n; p++) {
                rows.add(causal.forward(IntTensor.of(new int[] {ids[p]}, 1, 1), cache).toFloatArray());
            }
            assertThat(cache.length()).isEqualTo(n);
            for (int p = 0; p < n; p++) {
                float[] expected = Arrays.copyOfRange(whole, p * vocab, (p + 1) * vocab);
                float[] got = rows.get(p);
                for (int v = 0; v < vocab; v++) {
                    assertThat(got[v]).as("%s %s position %d id %d", family, style, p, v)
                            .isCloseTo(expected[v], org.assertj.core.api.Assertions.within(1e-5f * Math.max(1f, Math.abs(expected[v]))));
                }
            }
        }
    }

    @Test
    void samplingIsAFunctionOfItsSeed() throws IOException {
        LanguageModel lm = load("gpt2", "hub");
        Generator generator = new Generator(lm);
        int[] prompt = prompts("gpt2", 4).get(0);
        Generator.Options seed1 = new Generator.Options(16, new Sampling(false, 2.0, 0, 1, 1), true);
        int[] a = generator.generate(prompt, 1, seed1, id -> { });
        int[] again = generator.generate(prompt, 1, seed1, id -> { });
        int[] uncached = generator.generate(prompt, 1, new Generator.Options(16, seed1.sampling(), false), id -> { });
        int[] b = generator.generate(prompt, 1, new Generator.Options(16, new Sampling(false, 2.0, 0, 1, 2), true), id -> { });
        assertThat(again).containsExactly(a);
        assertThat(uncached).containsExactly(a);
        assertThat(b).isNotEqualTo(a);
        int[] topOne = generator.generate(prompt, 1, new Generator.Options(16, new Sampling(false, 1.0, 1, 1, 7), true), id -> { });
        int[] tinyNucleus = generator.generate(prompt, 1, new Generator.Options(16, new Sampling(false, 1.0, 0, 1e-6, 7), true), id -> { });
        int[] greedy = generator.generate(prompt, 1, new Generator.Options(16, Sampling.GREEDY, true), id -> { });
        assertThat(topOne).containsExactly(greedy);
        assertThat(tinyNucleus).containsExactly(greedy);
    }

    @Test
    void samplingKeepsToTheTopKAndTheNucleus() {
        float[] logits = {0f, 3f, 2.9f, -1f, 2.8f};
        for (int i = 0; i < 200; i++) {
            assertThat(new Sampling(false, 1.0, 2, 1, 5).next(logits, 1, i)).isIn(1, 2);
            // p(1) ~ 0.35, p(2) ~ 0.32: the nucleus of 0.5 holds ids 1 and 2
            assertThat(new Sampling(false, 1.0, 0, 0.5, 5).next(logits, 1, i)).isIn(1, 2);
        }
        assertThatThrownBy(() -> new Sampling(false, 0, 0, 1, 1)).hasMessageContaining("--temperature must be > 0");
        assertThatThrownBy(() -> new Sampling(false, 1, 0, 1.5, 1)).hasMessageContaining("--top-p must lie in (0, 1]");
    }

    @Test
    void refusesPromptsTheModelCannotContinue() throws IOException {
        LanguageModel lm = load("gpt2", "hub");
        Generator generator = new Generator(lm);
        int positions = lm.maxSequenceLength();
        assertThatThrownBy(() -> generator.generate(new int[positions], 2, new Generator.Options(2, Sampling.GREEDY, true), id -> { }))
                .hasMessageContaining("prompt 2 has " + positions + " tokens; with 2 new ones the model reads " + (positions + 1)
                        + " positions, more than its " + positions);
        assertThatThrownBy(() -> generator.generate(new int[] {1, lm.vocabSize()}, 3, new Generator.Options(2, Sampling.GREEDY, true), id -> { }))
                .hasMessageContaining("prompt 3: token id " + lm.vocabSize() + " is outside the model's vocabulary of " + lm.vocabSize());
        assertThatThrownBy(() -> new KvCache().positions(positions + 1, 0, "gpt2", "n_positions", positions))
                .hasMessageContaining("gpt2: sequence of " + (positions + 1) + " tokens is longer than n_positions " + positions);
        ModelZoo.Family bert = ModelZoo.family("bert");
        assertThatThrownBy(() -> new Generator(bert.languageModel(bert.build("tiny", 0))))
                .hasMessageContaining("is not a causal LM: generate takes the families whose model continues a sequence (gpt2, opt, llama)");
    }
}

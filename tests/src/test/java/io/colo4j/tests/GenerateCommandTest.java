package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.generate.Generator;
import io.colo4j.zoo.generate.Sampling;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.train.Evaluation;
import io.colo4j.zoo.train.LanguageModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code colo4j generate} on the PyTorch reference folders: at tp 2 and 4 (heads local, the training rules) it
 * prints the tokens the serial model picks when it rereads the whole prefix for every token; sampling is the same
 * at every tp under a seed; bad input is refused naming the culprit.
 */
class GenerateCommandTest {
    private static Path ref(String family) {
        return Path.of("..", "model-zoo", "src", "test", "resources", family + "-ref");
    }

    /** The first 6 ids of each line of the family's tokens.txt, one prompt per line. */
    private static Path prompts(String family, Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int[] ids : Evaluation.readTokenLines(ref(family).resolve("tokens.txt"))) {
            lines.add(Arrays.stream(Arrays.copyOf(ids, 6)).mapToObj(String::valueOf).collect(Collectors.joining(" ")));
        }
        return Files.write(dir.resolve(family + "-prompts.txt"), lines);
    }

    /** The serial model's greedy continuations without a cache (each token from the whole prefix), one line per prompt. */
    private static String serialGreedy(String family, String style, Path prompts, int n) throws Exception {
        HfFamilyOps hf = ModelZoo.family(family).requireHf();
        Path dir = ref(family).resolve(style);
        Module m = hf.build(hf.withDropout(hf.readConfig(dir), 0f), 0L);
        hf.loadWeights(m, dir);
        LanguageModel lm = hf.languageModel(m);
        Generator generator = new Generator(lm);
        StringBuilder out = new StringBuilder();
        for (int[] prompt : Evaluation.readTokenLines(prompts, 1)) {
            int[] ids = generator.generate(prompt, 1, new Generator.Options(n, Sampling.GREEDY, false), id -> { });
            out.append(Arrays.stream(ids).mapToObj(String::valueOf).collect(Collectors.joining(" "))).append('\n');
        }
        return out.toString();
    }

    @ParameterizedTest(name = "{0} {1} tp={2}")
    @CsvSource({"gpt2,hub,1", "gpt2,hub,2", "gpt2,hub,4", "gpt2,prefixed,2", "opt,pre,2", "opt,post,2", "llama,gqa,2", "llama,mha,4"})
    void greedyIdsAtAnyTpAreTheSerialFullRecomputeArgmax(String family, String style, int tp, @TempDir Path tmp) throws Exception {
        Path prompts = prompts(family, tmp);
        CliRun r = CliRun.of("generate", "--model-dir", ref(family).resolve(style).toString(), "--tokens", prompts.toString(),
                "--max-new-tokens", "8", "--greedy", "--tp", String.valueOf(tp));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(serialGreedy(family, style, prompts, 8));
        assertThat(r.err()).containsPattern("generated 32 tokens: prompts read \\(and first token\\) in [0-9.]+ s; 28 more tokens in [0-9.]+ s:"
                + " [0-9.]+ tokens/s \\(" + family + ", tp=" + tp + ", KV cache\\)");
    }

    @Test
    void samplingUnderASeedIsTheSameAtEveryTpAndWithoutTheCache(@TempDir Path tmp) throws Exception {
        Path prompts = prompts("gpt2", tmp);
        String dir = ref("gpt2").resolve("hub").toString();
        String[] sample = {"generate", "--model-dir", dir, "--tokens", prompts.toString(), "--max-new-tokens", "12",
            "--temperature", "1.5", "--top-k", "20", "--top-p", "0.9", "--seed", "7"};
        CliRun serial = CliRun.of(sample);
        assertThat(serial.exit()).as(serial.err()).isZero();
        assertThat(CliRun.of(concat(sample, "--tp", "2")).out()).isEqualTo(serial.out());
        assertThat(CliRun.of(concat(sample, "--no-cache")).out()).isEqualTo(serial.out());
        assertThat(CliRun.of(concat(Arrays.copyOf(sample, sample.length - 1), "8")).out()).isNotEqualTo(serial.out());
    }

    /** The README's main job in small: train with the byte tokenizer, then continue a text prompt from the save folder. */
    @Test
    void aTextPromptIsStreamedBackWithItsContinuation(@TempDir Path tmp) throws Exception {
        TrainRuns.train(tmp, List.of("--model", "gpt2", "--steps", "2", "--batch", "2", "--seq", "16"));
        CliRun r = CliRun.of("generate", "--model-dir", tmp.toString(), "--prompt", "Free",
                "--max-new-tokens", "5", "--tp", "2");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Free").endsWith("\n");
        assertThat(r.err()).contains("generated 5 tokens: ");
    }

    /** The README's main job: train --sample ends with the continuation generate prints from the checkpoint. */
    @Test
    void trainWithSampleEndsWithGeneratesContinuationOfItsCheckpoint(@TempDir Path tmp) throws Exception {
        TrainRuns.Run run = TrainRuns.train(tmp.resolve("run"), List.of("--model", "gpt2", "--steps", "2", "--batch", "2", "--seq", "16",
                "--tp", "2", "--sample", "5"));
        CliRun generate = CliRun.of("generate", "--model-dir", tmp.resolve("run").toString(), "--prompt", "This License",
                "--max-new-tokens", "5", "--greedy", "--tp", "2");
        assertThat(generate.exit()).as(generate.err()).isZero();
        assertThat(run.log()).contains("sample (greedy, 5 tokens from ").endsWith(generate.out());
        TrainRuns.Run bert = TrainRuns.train(tmp.resolve("bert"), List.of("--model", "bert", "--steps", "1", "--batch", "2", "--seq", "16",
                "--sample", "5"));
        assertThat(bert.log()).contains("sample: none (bert does not continue text)");
    }

    @Test
    void badInputIsRefusedNamingTheCulprit(@TempDir Path tmp) throws Exception {
        String dir = ref("gpt2").resolve("hub").toString();
        Path tooLong = Files.writeString(tmp.resolve("long.txt"), "1 2\n" + "5 ".repeat(32) + "\n");
        assertThat(CliRun.of("generate", "--model-dir", dir, "--tokens", tooLong.toString(), "--max-new-tokens", "2").err())
                .contains("prompt 2 has 32 tokens; with 2 new ones the model reads 33 positions, more than its 32");
        Path unknown = Files.writeString(tmp.resolve("unknown.txt"), "1 2 96\n");
        assertThat(CliRun.of("generate", "--model-dir", dir, "--tokens", unknown.toString(), "--max-new-tokens", "2").err())
                .contains("prompt 1: token id 96 is outside the model's vocabulary of 96 ids");
        Path notIds = Files.writeString(tmp.resolve("words.txt"), "1 two\n");
        assertThat(CliRun.of("generate", "--model-dir", dir, "--tokens", notIds.toString(), "--max-new-tokens", "2").err())
                .contains("words.txt: line 1: 'two' is not a token id");
        assertThat(CliRun.of("generate", "--model-dir", dir, "--prompt", "Free", "--max-new-tokens", "2").err())
                .contains("prompt 1: token id 114 is outside the model's vocabulary of 96 ids");
        Path fine = Files.writeString(tmp.resolve("fine.txt"), "1 2 3\n");
        CliRun odd = CliRun.of("generate", "--model-dir", dir, "--tokens", fine.toString(), "--max-new-tokens", "2", "--tp", "3");
        assertThat(odd.exit()).isEqualTo(1);
        assertThat(odd.err()).contains("cannot be sharded at tp=3").contains("attn.c_attn").contains("tp degrees up to 64 at which the rules shard");
        CliRun bert = CliRun.of("generate", "--model-dir", ref("bert").resolve("model").toString(), "--prompt", "x", "--max-new-tokens", "2");
        assertThat(bert.exit()).isEqualTo(1);
        assertThat(bert.err()).contains("is not a causal LM");
        assertThat(CliRun.of("generate", "--model-dir", dir, "--prompt", "x", "--max-new-tokens", "2", "--greedy", "--top-k", "3").err())
                .contains("--greedy takes no --temperature, --top-k or --top-p");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

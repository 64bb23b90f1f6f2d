package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.bert.BertForMaskedLM;
import io.colo4j.zoo.bert.BertLanguageModel;
import io.colo4j.zoo.bert.BertMasking;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.t5.T5ForConditionalGeneration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code colo4j eval} finds the family from config.json's model_type and prints its loss at any tp: OPT and Llama
 * folders from the PyTorch reference scripts give the reference loss; BERT gives its masked-LM loss over each line
 * masked by the line's number; T5 the teacher-forced loss of {@code source ||| target} lines. Each is checked against
 * the serial model's own loss on the same batch (whose PyTorch parity BertParityTest and T5ParityTest hold).
 */
class EvalEveryFamilyTest {
    private static final Path FIXTURES = Path.of("..", "model-zoo", "src", "test", "resources");

    private static double loss(CliRun r) {
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out().trim()).matches("loss [0-9.]+");
        return Double.parseDouble(r.out().trim().substring("loss ".length()));
    }

    private static double rel(double a, double b) {
        return Math.abs(a - b) / Math.abs(b);
    }

    @ParameterizedTest(name = "{0} {1} tp={2}")
    @CsvSource({"opt,pre,1", "opt,pre,2", "opt,post,2", "llama,gqa,1", "llama,gqa,2", "llama,mha,4"})
    void causalFoldersPrintTheReferenceLoss(String family, String style, int tp) throws Exception {
        Path ref = FIXTURES.resolve(family + "-ref");
        Matcher m = Pattern.compile("step 0 loss ([0-9.]+)").matcher(Files.readString(ref.resolve("expected-" + style + ".txt")));
        assertThat(m.find()).isTrue();
        double got = loss(CliRun.of("eval", "--model-dir", ref.resolve(style).toString(), "--tokens", ref.resolve("tokens.txt").toString(),
                "--tp", String.valueOf(tp)));
        assertThat(rel(got, Double.parseDouble(m.group(1)))).isLessThanOrEqualTo(1e-4);
    }

    private static Module load(String family, Path dir) throws Exception {
        HfFamilyOps hf = ModelZoo.family(family).requireHf();
        Module m = hf.build(hf.withDropout(hf.readConfig(dir), 0f), 0L);
        hf.loadWeights(m, dir);
        m.eval();
        return m;
    }

    /** Three BERT lines (two of one length), evaluated whole: masked by line number, the masked positions averaged. */
    @Test
    void bertPrintsTheMaskedLmLossOfEachLineMaskedByItsNumber(@TempDir Path tmp) throws Exception {
        int[][] lines = {{6, 31, 11, 15, 25, 44, 6, 8, 32, 37, 2, 18}, {3, 6, 33, 8, 19, 27}, {32, 26, 46, 32, 33, 37, 13, 12, 41, 19, 14, 36}};
        Path tokens = Files.writeString(tmp.resolve("bert.txt"), text(lines, null));
        Path dir = FIXTURES.resolve("bert-ref").resolve("model");
        BertForMaskedLM model = (BertForMaskedLM) load("bert", dir);
        double sum = 0;
        long count = 0;
        try (GradMode.Guard ignored = GradMode.disabled()) {
            for (int i = 0; i < lines.length; i++) {
                BertMasking.Masked masked = BertMasking.mask(IntTensor.of(lines[i], 1, lines[i].length),
                        Init.Random.seed(BertLanguageModel.MASKING_SEED, "eval/line/" + (i + 1)), model.config().vocabSize(), model.config().maskTokenId());
                sum += model.loss(masked.inputs(), masked.labels()).item() * masked.count();
                count += masked.count();
            }
        }
        double expected = sum / count;
        for (String tp : new String[] {"1", "2", "4"}) {
            for (String batch : new String[] {"1", "8"}) {
                double got = loss(CliRun.of("eval", "--model-dir", dir.toString(), "--tokens", tokens.toString(), "--tp", tp, "--batch", batch));
                assertThat(rel(got, expected)).as("tp %s batch %s", tp, batch).isLessThanOrEqualTo(1e-5);
            }
        }
    }

    @Test
    void t5PrintsTheTeacherForcedLossOfSourceTargetLines(@TempDir Path tmp) throws Exception {
        int[][] sources = {{5, 24, 34, 10, 56, 43}, {39, 43, 54, 41, 49, 29, 9}, {17, 19, 44}};
        int[][] targets = {{24, 14, 14, 59, 24}, {15, 42, 11, 20}, {24, 17, 43, 34}};
        Path tokens = Files.writeString(tmp.resolve("t5.txt"), text(sources, targets));
        Path dir = FIXTURES.resolve("t5-ref").resolve("model");
        T5ForConditionalGeneration model = (T5ForConditionalGeneration) load("t5", dir);
        double sum = 0;
        long count = 0;
        try (GradMode.Guard ignored = GradMode.disabled()) {
            for (int i = 0; i < sources.length; i++) {
                sum += model.loss(IntTensor.of(sources[i], 1, sources[i].length), IntTensor.of(targets[i], 1, targets[i].length)).item()
                        * targets[i].length;
                count += targets[i].length;
            }
        }
        double expected = sum / count;
        for (String tp : new String[] {"1", "2"}) {
            double got = loss(CliRun.of("eval", "--model-dir", dir.toString(), "--tokens", tokens.toString(), "--tp", tp));
            assertThat(rel(got, expected)).as("tp %s", tp).isLessThanOrEqualTo(1e-5);
        }
        assertThat(CliRun.of("eval", "--model-dir", dir.toString(), "--tokens", Files.writeString(tmp.resolve("plain.txt"), "1 2 3\n").toString()).err())
                .contains("line 1: t5 reads 'source ||| target' lines");
        Path opt = FIXTURES.resolve("opt-ref").resolve("pre");
        assertThat(CliRun.of("eval", "--model-dir", opt.toString(), "--tokens", tokens.toString()).err())
                .contains("line 1: '|||' separates an encoder-decoder model's source and target; a causal LM reads plain lines of ids");
    }

    private static String text(int[][] ids, int[][] targets) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            out.append(join(ids[i]));
            if (targets != null) {
                out.append(" ||| ").append(join(targets[i]));
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static String join(int[] ids) {
        return java.util.Arrays.stream(ids).mapToObj(String::valueOf).collect(java.util.stream.Collectors.joining(" "));
    }
}

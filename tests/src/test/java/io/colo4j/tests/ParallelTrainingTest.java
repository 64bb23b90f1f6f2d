package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.cli.Colo4jCommand;
import io.colo4j.tensor.IntTensor;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.io.SafeTensorsReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The train command at tp and dp > 1 (in-JVM ranks) reproduces the serial run's losses; its
 * checkpoints hold whole unpadded tensors and resume at a different tp to the uninterrupted losses;
 * a vocabulary that tp does not divide is padded inside and never outside.
 */
class ParallelTrainingTest {
    private static final double RTOL = 1e-5;

    private static List<Double> train(Path save, String... extra) throws IOException {
        String[] base = {"train", "--model", "gpt2", "--config", "tiny", "--steps", "6", "--batch", "4", "--seq", "16",
            "--save", save.toString(), "--log-every", "6"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        assertThat(Colo4jCommand.commandLine().execute(args)).as(String.join(" ", args)).isZero();
        return Files.readAllLines(save.resolve("losses.csv")).stream().skip(1)
                .map(line -> Double.parseDouble(line.split(",")[1])).toList();
    }

    private static void assertSameLosses(List<Double> actual, List<Double> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i)).as("loss of step %d", i).isCloseTo(expected.get(i),
                    org.assertj.core.api.Assertions.within(RTOL * Math.abs(expected.get(i))));
        }
    }

    @Test
    void tensorAndDataParallelRunsReproduceTheSerialLosses(@TempDir Path dir) throws IOException {
        List<Double> serial = train(dir.resolve("tp1"));
        assertSameLosses(train(dir.resolve("tp2"), "--tp", "2"), serial);
        assertSameLosses(train(dir.resolve("tp2dp2"), "--tp", "2", "--dp", "2"), serial);
    }

    @Test
    void aCheckpointResumesAtAnotherTpToTheUninterruptedLosses(@TempDir Path dir) throws IOException {
        List<Double> uninterrupted = train(dir.resolve("whole"));
        train(dir.resolve("first"), "--tp", "2", "--save-every", "3");
        Path checkpoint = dir.resolve("first").resolve("checkpoint-3");
        try (SafeTensorsReader weights = SafeTensorsReader.open(checkpoint.resolve("model.safetensors"))) {
            assertThat(weights.info("transformer.h.0.attn.c_attn.weight").shape()).containsExactly(64, 192);
        }
        List<Double> resumed = train(dir.resolve("resumed"), "--tp", "4", "--resume", checkpoint.toString());
        assertSameLosses(resumed, uninterrupted);
    }

    @Test
    void anOddVocabularyIsPaddedInsideAndNeverOutside() {
        Gpt2Config odd = Gpt2Config.of(97, 16, 32, 1, 4).withDropout(0f);
        int[] v = new int[2 * 8];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 37 + 5) % 97;
        }
        IntTensor in = IntTensor.of(v, 2, 8);
        int[] t = new int[v.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = i == 3 ? 96 : (v[i] + 1) % 97;
        }
        IntTensor target = IntTensor.of(t, 2, 8);
        var serial = ShardedRun.serial(() -> new Gpt2Model(odd, 7L), m -> ((Gpt2Model) m).loss(in, target));
        for (int tp : new int[] {2, 4}) {
            var ranks = ShardedRun.parallel(tp, () -> new Gpt2Model(odd, 7L), ModelZoo.family("gpt2").rules(),
                    m -> ((Gpt2Model) m).loss(in, target));
            ShardedRun.assertEquivalent(serial, ranks, RTOL);
            Map<String, int[]> valid = ranks.get(0).valid();
            assertThat(valid.get("transformer.wte.weight")).containsExactly(97, 32);
            assertThat(ranks.get(0).layouts().get("transformer.wte.weight").globalShape()).containsExactly(Math.ceilDiv(97, tp) * tp, 32);
        }
    }
}

package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2LanguageModel;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.tokenizer.ByteTokenizer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    /** Small enough that a step takes milliseconds; dropout on, so resume must reproduce the masks too. */
    static final Gpt2Config MICRO = new Gpt2Config(256, 32, 32, 2, 4, 1e-5f, 0.1f, 0.1f, 0.1f, 0.02f);
    static TokenData data;

    @BeforeAll
    static void corpus() throws IOException {
        data = TokenData.bundled(ByteTokenizer.INSTANCE);
    }

    static TrainConfig config(long steps) {
        return new TrainConfig(steps, 4, 16, 3e-3, 2, 0.1, 0.1, 0.9, 0.95, 1.0, 77, 0, 0);
    }

    static Trainer trainer(TrainConfig cfg) {
        return new Trainer(new Gpt2LanguageModel(new Gpt2Model(MICRO, 5)), data, cfg);
    }

    @Test
    void batchesAreDeterministicWindowsOfTheStream() {
        TokenData d = new TokenData(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "ramp");
        var a = d.batch(1, 3, 4, 5);
        var b = d.batch(1, 3, 4, 5);
        assertThat(a[0].data()).containsExactly(b[0].data());
        for (int r = 0; r < 4; r++) {
            for (int i = 0; i < 5; i++) {
                assertThat(a[1].data()[r * 5 + i]).isEqualTo(a[0].data()[r * 5 + i] + 1);
            }
        }
        assertThat(d.batch(2, 3, 4, 5)[0].data()).isNotEqualTo(a[0].data());
        assertThatThrownBy(() -> d.batch(1, 0, 1, 10)).hasMessageContaining("shorter");
    }

    @Test
    void sameSeedGivesBitIdenticalLossesAndTheLossFalls() throws IOException {
        List<Float> first = trainer(config(30)).run().losses();
        List<Float> second = trainer(config(30)).run().losses();
        assertThat(second).containsExactlyElementsOf(first);
        double head = first.subList(0, 5).stream().mapToDouble(Float::doubleValue).average().orElseThrow();
        double tail = first.subList(25, 30).stream().mapToDouble(Float::doubleValue).average().orElseThrow();
        assertThat(head).isGreaterThan(5.0);
        assertThat(tail).isLessThan(head - 1.0);
        assertThat(trainer(config(3).withSeed(78)).run().losses()).isNotEqualTo(first.subList(0, 3));
    }

    @Test
    void resumingFromACheckpointReproducesTheUninterruptedRun(@TempDir Path dir) throws IOException {
        Path full = dir.resolve("full");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Result uninterrupted = trainer(config(8).withSaveEvery(3)).saveTo(full)
                .log(new PrintStream(log, true, StandardCharsets.UTF_8), false).run();
        assertThat(Files.readString(full.resolve(Trainer.LATEST)).strip()).isEqualTo("checkpoint-8");
        assertThat(full.resolve("checkpoint-6/model.safetensors")).exists();
        assertThat(full.resolve("checkpoint-6/config.json")).exists();
        assertThat(full.resolve("checkpoint-6/optimizer.safetensors")).exists();
        assertThat(full.resolve("checkpoint-3")).doesNotExist(); // only the last two are kept
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("step 8/8").contains("tokens/s");

        Trainer resumed = trainer(config(8)).resume(full.resolve("checkpoint-6")).saveTo(dir.resolve("resumed"));
        assertThat(resumed.step()).isEqualTo(6);
        Trainer.Result rest = resumed.run();
        assertThat(rest.firstStep()).isEqualTo(6);
        assertThat(rest.losses()).containsExactlyElementsOf(uninterrupted.losses().subList(6, 8));
        assertThat(resumed.losses()).containsExactlyElementsOf(uninterrupted.losses());

        // the final model folders are identical, and a resumed save folder can itself be evaluated
        Gpt2Model a = Gpt2Checkpoint.load(full.resolve("checkpoint-8"));
        Gpt2Model b = Gpt2Checkpoint.load(Trainer.resolveCheckpoint(dir.resolve("resumed")));
        a.namedParameters().forEach((n, p) ->
                assertThat(b.namedParameters().get(n).toFloatArray()).as(n).containsExactly(p.toFloatArray()));

        List<String> csv = Files.readAllLines(full.resolve("losses.csv"));
        assertThat(csv.get(0)).isEqualTo("step,loss,lr,grad_norm");
        assertThat(csv).hasSize(9);
        assertThat(csv.get(8)).startsWith("7," + uninterrupted.losses().get(7) + ",");
        BufferedImage png = ImageIO.read(full.resolve("loss.png").toFile());
        assertThat(png.getWidth()).isGreaterThan(400);
    }

    @Test
    void resumeRefusesADifferentRun(@TempDir Path dir) throws IOException {
        trainer(config(2)).saveTo(dir).run();
        assertThatThrownBy(() -> trainer(config(4).withSeed(1)).resume(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("seed");
        Trainer other = new Trainer(new Gpt2LanguageModel(new Gpt2Model(MICRO.withPositions(16), 5)), data, config(4));
        assertThatThrownBy(() -> other.resume(dir)).isInstanceOf(IOException.class).hasMessageContaining("architecture");
        assertThatThrownBy(() -> trainer(config(4)).resume(dir.resolve("missing")))
                .isInstanceOf(IOException.class).hasMessageContaining("missing");
    }

    @Test
    void rejectsDataTheModelCannotRead() {
        TokenData big = new TokenData(new int[] {1, 2, 300, 4}, "big ids");
        assertThatThrownBy(() -> new Trainer(new Gpt2LanguageModel(new Gpt2Model(MICRO, 1)), big, config(1)))
                .hasMessageContaining("300");
    }

    @Test
    void lossCurveTicksAreNice() {
        assertThat(LossCurve.ticks(2.13, 5.61, 6)).containsExactly(2.0, 3.0, 4.0, 5.0, 6.0);
        assertThat(LossCurve.ticks(0, 49, 8)).startsWith(0.0, 10.0).endsWith(50.0);
    }
}

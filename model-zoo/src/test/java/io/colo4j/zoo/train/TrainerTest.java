package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.hf.HfLanguageModel;
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
        return new Trainer(new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, new Gpt2Model(MICRO, 5)), data, cfg);
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

    /**
     * Within one JVM the losses agree to float rounding only: the ops kernels' Vector API EXP and float
     * reduceLanes(ADD) round differently before and after C2 compiles them, so a run that crosses that
     * point differs in the last bit. Bit-identity is checked run to run in fresh JVMs below.
     */
    @Test
    void sameSeedGivesTheSameLossesAndTheLossFalls() throws IOException {
        List<Float> first = trainer(config(20)).run().losses();
        List<Float> second = trainer(config(20)).run().losses();
        assertThat(second).hasSameSizeAs(first);
        for (int i = 0; i < first.size(); i++) {
            assertThat(second.get(i)).as("loss %d", i).isCloseTo(first.get(i), within(2e-5f * first.get(i)));
        }
        double head = first.subList(0, 5).stream().mapToDouble(Float::doubleValue).average().orElseThrow();
        double tail = first.subList(15, 20).stream().mapToDouble(Float::doubleValue).average().orElseThrow();
        assertThat(head).isGreaterThan(5.0);
        assertThat(tail).isLessThan(head - 1.0);
        assertThat(trainer(config(3).withSeed(78)).run().losses()).isNotEqualTo(first.subList(0, 3));
    }

    /**
     * Run to run, in fresh JVMs whose Vector API runs its portable Java code at every JIT tier
     * ({@code -XX:-EnableVectorSupport}): two runs give bit-identical losses, and a third that resumes
     * from the first one's checkpoint at step 6 gives bit-identically the uninterrupted run's last losses.
     */
    @Test
    void runToRunBitIdenticalLossesAndResumeInFreshJvms(@TempDir Path dir) throws Exception {
        String[] a = probe("8", dir.resolve("a").toString());
        String[] b = probe("8");
        assertThat(b).containsExactly(a);
        assertThat(a).hasSize(8);
        String[] resumed = probe("8", dir.resolve("c").toString(), dir.resolve("a/checkpoint-6").toString());
        assertThat(resumed).containsExactly(a[6], a[7]);
    }

    private static String[] probe(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UnlockExperimentalVMOptions", "-XX:-EnableVectorSupport", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), TrainerProbe.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("probe output:%n%s", output).isZero();
        String line = output.lines().filter(l -> l.startsWith("losses")).findFirst()
                .orElseThrow(() -> new AssertionError("no losses from the probe:\n" + output));
        return line.substring("losses".length()).trim().split(" ");
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
        // bit-identical unless the JIT recompiled a kernel in between (see above); the fresh-JVM test is strict
        for (int i = 0; i < 2; i++) {
            assertThat(rest.losses().get(i)).isCloseTo(uninterrupted.losses().get(6 + i), within(2e-5f * rest.losses().get(i)));
        }
        assertThat(resumed.losses().subList(0, 6)).containsExactlyElementsOf(uninterrupted.losses().subList(0, 6));

        // the checkpoint is a loadable model folder, also through the save folder's latest pointer
        Gpt2Model a = Gpt2Checkpoint.FORMAT.load(full.resolve("checkpoint-8"));
        Gpt2Model b = Gpt2Checkpoint.FORMAT.load(Trainer.resolveCheckpoint(dir.resolve("resumed")));
        assertThat(b.namedParameters().keySet()).containsExactlyElementsOf(a.namedParameters().keySet());

        List<String> csv = Files.readAllLines(full.resolve("losses.csv"));
        assertThat(csv.get(0)).isEqualTo("step,loss,lr,grad_norm");
        assertThat(csv).hasSize(9);
        assertThat(csv.get(8)).startsWith("7," + uninterrupted.losses().get(7) + ",");
        BufferedImage png = ImageIO.read(full.resolve("loss.png").toFile());
        assertThat(png.getWidth()).isGreaterThan(400);
    }

    /**
     * A writer killed mid-checkpoint leaves its staged folder (or a set-aside old one, or a temporary copy of
     * latest); {@code latest} never names one, and the next run into the folder deletes those of writers on this
     * host that are gone, leaving live writers' and other hosts' alone.
     */
    @Test
    void stagedFoldersOfDeadWritersAreNeverResumedAndAreCleanedUp(@TempDir Path dir) throws Exception {
        Process dead = new ProcessBuilder("true").start();
        assertThat(dead.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Process alive = new ProcessBuilder("sleep", "60").start();
        try {
            String pidAtHost = Trainer.WRITER;
            String host = pidAtHost.substring(pidAtHost.indexOf('@') + 1);
            Path stale = dir.resolve(".checkpoint-4.tmp-" + dead.pid() + "@" + host + "-1");
            Path live = dir.resolve(".checkpoint-6.tmp-" + alive.pid() + "@" + host + "-2");
            Path remote = dir.resolve(".checkpoint-8.tmp-" + dead.pid() + "@not-" + host + "-3");
            // a set-aside folder from before writers were named in it, and temporary copies of the folder's own files
            Path oldAside = dir.resolve(".checkpoint-2.old-12345");
            Path deadAside = dir.resolve(".checkpoint-2.old-" + dead.pid() + "@" + host + "-4");
            for (Path p : List.of(stale, live, remote, oldAside, deadAside)) {
                Files.createDirectories(p);
                Files.writeString(p.resolve(Trainer.STATE), "{\"format\": \"truncated"); // a half-written checkpoint
            }
            List<Path> tempFiles = List.of(dir.resolve(".latest.8812.tmp"), dir.resolve(".losses.csv.99.tmp"), dir.resolve(".loss.png.7.tmp"),
                    dir.resolve(".colo4j-write-check-31.tmp"));
            for (Path p : tempFiles) {
                Files.writeString(p, "half");
            }
            trainer(config(2)).saveTo(dir).run();
            assertThat(Trainer.resolveCheckpoint(dir)).isEqualTo(dir.resolve("checkpoint-2"));
            assertThat(stale).doesNotExist();
            assertThat(oldAside).doesNotExist();
            assertThat(deadAside).doesNotExist();
            assertThat(tempFiles).allSatisfy(p -> assertThat(p).doesNotExist());
            assertThat(live).exists();
            assertThat(remote).exists();
        } finally {
            alive.destroyForcibly();
        }
    }

    @Test
    void resumeRefusesADifferentRun(@TempDir Path dir) throws IOException {
        trainer(config(2)).saveTo(dir).run();
        assertThatThrownBy(() -> trainer(config(4).withSeed(1)).resume(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("seed");
        Trainer other = new Trainer(new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, new Gpt2Model(MICRO.withPositions(16), 5)), data, config(4));
        assertThatThrownBy(() -> other.resume(dir)).isInstanceOf(IOException.class).hasMessageContaining("architecture");
        assertThatThrownBy(() -> trainer(config(4)).resume(dir.resolve("missing")))
                .isInstanceOf(IOException.class).hasMessageContaining("missing");
    }

    @Test
    void rejectsDataTheModelCannotRead() {
        TokenData big = new TokenData(new int[] {1, 2, 300, 4}, "big ids");
        assertThatThrownBy(() -> new Trainer(new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, new Gpt2Model(MICRO, 1)), big, config(1)))
                .hasMessageContaining("300");
    }

    @Test
    void lossCurveTicksAreNice() {
        assertThat(LossCurve.ticks(2.13, 5.61, 6)).containsExactly(2.0, 3.0, 4.0, 5.0, 6.0);
        assertThat(LossCurve.ticks(0, 49, 8)).startsWith(0.0, 10.0).endsWith(50.0);
    }
}

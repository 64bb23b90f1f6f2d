package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.tests.CoverageCommandTest.Run;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfFamilyOps;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile user feeds the commands: each is refused at once with one line naming the culprit, exit 1,
 * and nothing written (no save folder). The timeouts guard against the old hangs; they are not speed targets.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileInputsCommandTest {
    @TempDir
    Path dir;

    private Path fifo(String name) throws Exception {
        Path p = dir.resolve(name);
        assertThat(new ProcessBuilder("mkfifo", p.toString()).start().waitFor()).isZero();
        return p;
    }

    private static void assertRefused(Run r, String... says) {
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.err().strip()).as("one line").doesNotContain("\n").doesNotContain("\tat ");
        for (String s : says) {
            assertThat(r.err()).contains(s);
        }
    }

    @Test
    void aFifoModelFileAtTp2IsRefused() throws Exception {
        Path model = Files.createDirectory(dir.resolve("model"));
        Files.writeString(model.resolve("config.json"), ModelZoo.family("gpt2").requireHf().config("tiny").toJson());
        assertThat(new ProcessBuilder("mkfifo", model.resolve("model.safetensors").toString()).start().waitFor()).isZero();
        Path save = dir.resolve("save");
        assertRefused(CoverageCommandTest.run("train", "--init", model.toString(), "--tp", "2", "--steps", "1", "--save", save.toString()),
                "colo4j train: ", model.resolve("model.safetensors") + ": the safetensors file is a FIFO");
        assertThat(save).doesNotExist();
        assertRefused(CoverageCommandTest.run("eval", "--model-dir", model.toString(), "--tokens", fifo("tokens").toString(), "--tp", "2"),
                "colo4j eval: ", dir.resolve("tokens") + ": the --tokens file is a FIFO");
    }

    @Test
    void fifoDataAndRulesAreRefused() throws Exception {
        assertRefused(CoverageCommandTest.run("train", "--data", fifo("data").toString(), "--steps", "1"),
                dir.resolve("data") + ": the --data file is a FIFO");
        assertRefused(CoverageCommandTest.run("coverage", "--model", "gpt2", "--rules", fifo("rules.json").toString()),
                "rules file " + dir.resolve("rules.json") + " is not a regular file");
    }

    @Test
    void aModelThatCannotFitIsRefusedBeforeItIsBuilt() throws Exception {
        Path model = Files.createDirectory(dir.resolve("huge"));
        Files.writeString(model.resolve("config.json"), ModelZoo.family("gpt2").requireHf().config("small").toJson()
                .replaceFirst("\"n_layer\" : \\d+", "\"n_layer\" : 200000"));
        Path save = dir.resolve("save");
        assertRefused(CoverageCommandTest.run("train", "--init", model.toString(), "--tp", "2", "--save", save.toString()),
                model.resolve("config.json") + ": the model (gpt2 ", "n_layer 200000", "per rank for parameters, gradients and AdamW moments",
                "of physical memory");
        assertThat(save).doesNotExist();
        assertRefused(CoverageCommandTest.run("eval", "--model-dir", model.toString(), "--tokens", Files.writeString(dir.resolve("t"), "1 2\n")
                .toString()), "needs", "per rank for its parameters");
    }

    @Test
    void aNanWeightIsRefusedNamingTheTensorUnlessAllowed() throws Exception {
        HfFamilyOps hf = ModelZoo.family("gpt2").requireHf();
        Path model = dir.resolve("nan");
        hf.languageModel(hf.build(hf.config("tiny"), 1L)).save(model);
        Path weights = model.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long dataStart = 8 + b.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) dataStart - 8, StandardCharsets.UTF_8));
        String first = null;
        for (var e : header.properties()) {
            if (e.getValue().has("data_offsets") && e.getValue().get("data_offsets").get(0).asLong() == 0) {
                first = e.getKey();
            }
        }
        b.putFloat((int) dataStart + 4 * 3, Float.NaN);
        Files.write(weights, bytes);
        Path tokens = Files.writeString(dir.resolve("tokens"), "1 2 3 4\n");
        assertRefused(CoverageCommandTest.run("eval", "--model-dir", model.toString(), "--tokens", tokens.toString(), "--tp", "2"),
                weights + ": tensor '" + first + "': element 3 ", " is NaN", "--allow-nonfinite");
        Run allowed = CoverageCommandTest.run("eval", "--model-dir", model.toString(), "--tokens", tokens.toString(), "--allow-nonfinite");
        assertThat(allowed.exit()).as(allowed.err()).isZero();
    }

    @Test
    void badOptionsNameTheOptionAndItsValue() {
        assertRefused(CoverageCommandTest.run("train", "--lr", "Infinity", "--steps", "1"), "colo4j train: train config: --lr Infinity must be finite and >= 0");
        assertRefused(CoverageCommandTest.run("train", "--seq", "0", "--steps", "-2"), "--steps -2 must be >= 0; --seq 0 must be >= 1");
    }

    @Test
    void nothingIsLeftBehind() throws Exception {
        aModelThatCannotFitIsRefusedBeforeItIsBuilt();
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("huge", "t");
        }
    }
}

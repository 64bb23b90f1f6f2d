package io.colo4j.zoo.train;

import static io.colo4j.zoo.train.MicroTraining.trainer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume trusts nothing it reads: the files are checked against the checkpoint's checksums, {@code trainer.json}
 * is read strictly, and a run is refused (naming the file and field, or both step numbers) before it changes.
 */
class ResumeChecksTest {
    @TempDir
    static Path shared;
    static Path save;

    @BeforeAll
    static void aRunOfFourSteps() throws IOException {
        save = shared.resolve("save");
        trainer(TrainerTest.config(4).withSaveEvery(2)).saveTo(save).run();
    }

    /** A copy of checkpoint-4 to damage. */
    private static Path copy(Path dir) throws IOException {
        Path cp = dir.resolve("checkpoint-4");
        MicroTraining.copyTree(save.resolve("checkpoint-4"), cp);
        return cp;
    }

    /** Resuming from {@code cp} fails with a message containing each of {@code parts}, and the trainer is untouched. */
    private static void refused(Path cp, String... parts) {
        Trainer t = trainer(TrainerTest.config(6));
        assertThatThrownBy(() -> t.resume(cp)).isInstanceOf(IOException.class).message().contains(parts);
        assertThat(t.step()).isZero();
        assertThat(t.losses()).isEmpty();
    }

    @Test
    void aZeroedOptimizerTailIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        Path cp = copy(dir);
        Path optimizer = cp.resolve(Trainer.OPTIMIZER);
        try (FileChannel ch = FileChannel.open(optimizer, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(256), ch.size() - 256);
        }
        refused(cp, optimizer.toString(), "CRC32C", CheckpointManifest.FILE);
    }

    @Test
    void aCutOrMissingFileIsRefused(@TempDir Path dir) throws IOException {
        Path cp = copy(dir);
        try (FileChannel ch = FileChannel.open(cp.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 1);
        }
        refused(cp, cp.resolve("model.safetensors").toString(), "bytes");
        Files.delete(cp.resolve("model.safetensors"));
        refused(cp, cp.resolve("model.safetensors").toString(), "missing");
        assertThatThrownBy(() -> CheckpointManifest.verifyModelFolder(cp, System.err)).hasMessageContaining("model.safetensors");
    }

    @Test
    void anEditedTrainerJsonIsRefusedByItsChecksum(@TempDir Path dir) throws IOException {
        Path cp = copy(dir);
        edit(cp, json -> json.replaceFirst("\"step\" : 4", "\"step\" : 2"));
        refused(cp, cp.resolve(Trainer.STATE).toString(), "CRC32C");
    }

    /** Checkpoints without checksums (written before them) are read as strictly; each field names itself. */
    @Test
    void trainerJsonIsReadStrictly(@TempDir Path dir) throws IOException {
        String[][] cases = {
            {"\"losses\" : \\[ ([-0-9.eE]+),", "\"losses\" : [ \"abc\",", "field 'losses[0]' is \"abc\", not a finite number"},
            {"\"losses\" : \\[ ([-0-9.eE]+),", "\"losses\" : [ ", "field 'losses' has 3 entries, expected 4"},
            {"\"step\" : 4", "\"step\" : \"4\"", "field 'step' is \"4\", not an integer"},
            {"(\"optimizer_steps\" : \\{\\s*\"[^\"]+\" : )4", "$199", "outside 0..4"},
            {"\"elapsed_seconds\" : [-0-9.eE]+", "\"elapsed\" : 1", "missing field 'elapsed_seconds'"},
            {"\"seed\" : 77", "\"seed\" : 77.5", "field 'train_config.seed' is 77.5, not an integer"},
            {"\\}\\s*$", "} {}", "not valid JSON"},
        };
        for (String[] c : cases) {
            Path cp = copy(dir.resolve("case-" + c[2].hashCode()));
            Files.delete(cp.resolve(CheckpointManifest.FILE));
            edit(cp, json -> json.replaceFirst(c[0], c[1]));
            refused(cp, cp.resolve(Trainer.STATE).toString(), c[2]);
        }
    }

    @Test
    void stepsBelowTheCompletedStepAreRefusedNamingBoth() {
        Trainer t = trainer(TrainerTest.config(3));
        assertThatThrownBy(() -> t.resume(save)).isInstanceOf(IOException.class)
                .hasMessageContaining("--steps 3 is below the 4 steps the checkpoint has completed");
        assertThat(t.step()).isZero();
    }

    @Test
    void aCheckpointWithoutChecksumsStillResumesAndSaysSo(@TempDir Path dir) throws IOException {
        Path cp = copy(dir);
        Files.delete(cp.resolve(CheckpointManifest.FILE));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer t = trainer(TrainerTest.config(4)).log(new PrintStream(log, true, StandardCharsets.UTF_8), false).resume(cp);
        assertThat(t.step()).isEqualTo(4);
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("note: " + cp + " has no checksums.json").contains("unverified");
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        assertThat(CheckpointManifest.verifyModelFolder(cp, new PrintStream(notes, true, StandardCharsets.UTF_8)))
                .isEqualTo(CheckpointManifest.Verification.NO_CHECKSUMS);
        assertThat(notes.toString(StandardCharsets.UTF_8)).contains("unverified");
    }

    /** As HF's Trainer (resume_from_checkpoint with none found), a save folder a run left before its first checkpoint is refused, saying why. */
    @Test
    void aSaveFolderWithNoCheckpointYetIsRefusedSayingSo(@TempDir Path dir) throws IOException {
        Path killed = dir.resolve("killed");
        Files.createDirectories(killed.resolve(".checkpoint-2.tmp-1@elsewhere-5"));
        assertThatThrownBy(() -> trainer(TrainerTest.config(4)).resume(killed))
                .hasMessageContaining(killed + " holds no checkpoint yet").hasMessageContaining("train without --resume");
        assertThatThrownBy(() -> trainer(TrainerTest.config(4)).resume(dir.resolve("nowhere"))).hasMessageContaining("no such folder");
    }

    private static void edit(Path cp, UnaryOperator<String> change) throws IOException {
        Path state = cp.resolve(Trainer.STATE);
        String before = Files.readString(state);
        String after = change.apply(before);
        assertThat(after).as("the edit must change %s", state).isNotEqualTo(before);
        Files.writeString(state, after);
    }
}

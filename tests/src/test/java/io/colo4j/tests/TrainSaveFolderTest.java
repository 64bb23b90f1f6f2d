package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code colo4j train} and its save folder: one that cannot be written is refused before the model or the data is
 * touched, one holding a run only with --resume or --overwrite; --steps below a resumed checkpoint's step is
 * refused naming both, and a damaged checkpoint before any work, naming the file; each in one line, exit code 1.
 */
class TrainSaveFolderTest {
    private static TrainRuns.Attempt train(String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "gpt2", "--config", "tiny", "--batch", "2", "--seq", "16",
                "--log-every", "2"));
        args.addAll(List.of(extra));
        return TrainRuns.attempt(args);
    }

    private static void refused(TrainRuns.Attempt a, String... parts) {
        assertThat(a.rc()).as("%s%s", a.out(), a.err()).isEqualTo(1);
        assertThat(a.err().lines().toList()).as(a.err()).hasSize(1);
        assertThat(a.err()).startsWith("colo4j train: ").contains(parts);
    }

    @Test
    void anUnusableSaveFolderIsRefusedBeforeAnyWork(@TempDir Path dir) throws IOException {
        TrainRuns.Attempt devNull = train("--steps", "2", "--save", "/dev/null");
        refused(devNull, "save folder /dev/null cannot be used: it is not a folder");
        assertThat(devNull.out()).as("nothing was loaded or built").isEmpty();
        Path file = Files.writeString(dir.resolve("file"), "x");
        refused(train("--steps", "2", "--save", file.resolve("save").toString()), "save folder " + file.resolve("save"), "cannot create it");
    }

    @Test
    void aUsedSaveFolderNeedsResumeOrOverwrite(@TempDir Path dir) {
        String save = dir.resolve("save").toString();
        assertThat(train("--steps", "2", "--save", save).rc()).isZero();
        TrainRuns.Attempt again = train("--steps", "2", "--save", save);
        refused(again, "save folder " + save + " already holds a run (checkpoint-2, latest, losses.csv)", "--overwrite");
        assertThat(again.out()).isEmpty();
        refused(train("--steps", "1", "--resume", save), "--steps 1 is below the 2 steps the checkpoint has completed");
        TrainRuns.Attempt overwritten = train("--steps", "1", "--save", save, "--overwrite");
        assertThat(overwritten.rc()).as(overwritten.err()).isZero();
        assertThat(dir.resolve("save").resolve("checkpoint-2")).doesNotExist();
        assertThat(dir.resolve("save").resolve("checkpoint-1")).isDirectory();
        TrainRuns.Attempt resumed = train("--steps", "2", "--resume", save);
        assertThat(resumed.rc()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains(TrainRuns.trainedSteps(1, 1));
    }

    @Test
    void aDamagedCheckpointIsRefusedBeforeAnyWork(@TempDir Path dir) throws IOException {
        String save = dir.resolve("save").toString();
        assertThat(train("--steps", "2", "--save", save).rc()).isZero();
        Path optimizer = dir.resolve("save/checkpoint-2/optimizer.safetensors");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(optimizer, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(512), ch.size() - 512); // a zeroed tail
        }
        TrainRuns.Attempt resumed = train("--steps", "3", "--resume", save);
        refused(resumed, optimizer.toString(), "CRC32C", "checksums.json");
        assertThat(resumed.out()).as("nothing was loaded or built").isEmpty();
    }
}

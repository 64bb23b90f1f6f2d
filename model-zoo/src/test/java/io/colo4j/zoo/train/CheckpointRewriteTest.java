package io.colo4j.zoo.train;

import static io.colo4j.zoo.train.MicroTraining.litter;
import static io.colo4j.zoo.train.MicroTraining.trainer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Re-writing a step that already has a checkpoint folder (a requeued job, a resume from an older checkpoint): a
 * kill at any point leaves {@code latest} naming a complete, checksum-verified checkpoint that resumes, and the
 * next checkpoint leaves no hidden folder or file behind.
 */
class CheckpointRewriteTest {
    @AfterEach
    void noHook() {
        CheckpointStore.reached = point -> {};
    }

    /**
     * What a kill leaves is what is on disk at that moment: the folder is copied at every point of the publish
     * where the disk changes, and each copy must resume, then lose its litter at its next checkpoint.
     */
    @Test
    void aKillAtAnyPointOfReWritingAStepLeavesLatestNamingAWholeCheckpoint(@TempDir Path dir) throws IOException {
        Path save = dir.resolve("save");
        trainer(TrainerTest.config(4).withSaveEvery(2)).saveTo(save).run();
        Map<String, Path> killedAt = new LinkedHashMap<>();
        CheckpointStore.reached = point -> {
            Path copy = dir.resolve("killed-" + killedAt.size());
            try {
                MicroTraining.copyTree(save, copy);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            killedAt.put(point, copy);
        };
        // a resume from checkpoint-2 into the same folder re-writes checkpoint-4
        trainer(TrainerTest.config(4)).resume(save.resolve("checkpoint-2")).saveTo(save).run();
        CheckpointStore.reached = point -> {};
        assertThat(killedAt.keySet()).containsExactly("staged", "latest names the staged copy", "old set aside",
                "linked twin written", "in place", "latest names it");
        assertThat(litter(save)).isEmpty();

        for (Map.Entry<String, Path> kill : killedAt.entrySet()) {
            Path folder = kill.getValue();
            Path cp = Trainer.resolveCheckpoint(folder);
            assertThat(CheckpointManifest.verify(cp, List.of(Trainer.STATE, Trainer.OPTIMIZER)))
                    .as("killed after '%s': latest names %s", kill.getKey(), cp).isEqualTo(CheckpointManifest.Verification.VERIFIED);
            Trainer resumed = trainer(TrainerTest.config(5)).resume(folder).saveTo(folder);
            assertThat(resumed.step()).as("killed after '%s'", kill.getKey()).isEqualTo(4);
            resumed.run();
            assertThat(Files.readString(folder.resolve(Trainer.LATEST)).strip()).isEqualTo("checkpoint-5");
            assertThat(litter(folder)).as("litter after the next checkpoint, killed after '%s'", kill.getKey()).isEmpty();
        }
    }

    /** A write that fails after latest named the staged copy must not delete that copy; the next checkpoint cleans up. */
    @Test
    void aFailedReWriteKeepsLatestsCopy(@TempDir Path dir) throws IOException {
        Path save = dir.resolve("save");
        trainer(TrainerTest.config(2)).saveTo(save).run();
        CheckpointStore.reached = point -> {
            if (point.equals("old set aside")) {
                throw new UncheckedIOException(new IOException("disk full (injected)"));
            }
        };
        assertThatThrownBy(() -> trainer(TrainerTest.config(2)).resume(save).saveTo(save).run()).hasMessageContaining("disk full");
        CheckpointStore.reached = point -> {};
        Path cp = Trainer.resolveCheckpoint(save);
        assertThat(cp.getFileName().toString()).startsWith(".checkpoint-2.tmp-");
        assertThat(save.resolve("checkpoint-2")).doesNotExist();
        assertThat(trainer(TrainerTest.config(3)).resume(save).saveTo(save).run().lastStep()).isEqualTo(3);
        assertThat(litter(save)).isEmpty();
    }

    /**
     * The real thing: a writer process paused between the renames (its old checkpoint-1 set aside, the new one
     * not yet in place) is killed with SIGKILL; latest still names a complete checkpoint, and the next writer
     * removes what the dead one left.
     */
    @Test
    void aWriterKilledBetweenTheRenamesLeavesLatestWhole(@TempDir Path dir) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CheckpointKillProbe.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        try {
            String line;
            List<String> output = new ArrayList<>();
            var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            while ((line = reader.readLine()) != null && !line.equals(CheckpointKillProbe.PAUSED)) {
                output.add(line);
            }
            assertThat(line).as("probe output: %s", output).isEqualTo(CheckpointKillProbe.PAUSED);
            assertThat(dir.resolve("checkpoint-1")).doesNotExist(); // set aside: the window is open
        } finally {
            p.destroyForcibly(); // SIGKILL
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        Path cp = CheckpointStore.resolve(dir, CheckpointKillProbe.MARKER);
        assertThat(CheckpointManifest.verify(cp, List.of(CheckpointKillProbe.MARKER))).isEqualTo(CheckpointManifest.Verification.VERIFIED);
        assertThat(Files.readString(cp.resolve(CheckpointKillProbe.MARKER))).isEqualTo("second");
        assertThat(litter(dir)).hasSizeGreaterThanOrEqualTo(2); // the staged copy latest names, the old one set aside

        CheckpointStore store = new CheckpointStore(dir, 2);
        store.publish(2, staged -> Files.writeString(staged.resolve(CheckpointKillProbe.MARKER), "third"));
        store.prune(2);
        assertThat(litter(dir)).isEmpty();
        assertThat(Files.readString(CheckpointStore.resolve(dir, CheckpointKillProbe.MARKER).resolve(CheckpointKillProbe.MARKER))).isEqualTo("third");
    }
}

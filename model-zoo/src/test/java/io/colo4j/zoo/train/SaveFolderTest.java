package io.colo4j.zoo.train;

import static io.colo4j.zoo.train.MicroTraining.trainer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A save folder that cannot be used is refused before step 1, in one line naming it and the reason. */
class SaveFolderTest {
    /** The run fails with each of {@code parts} in one line, and trained no step (it failed before the work). */
    private static void refusedBeforeTraining(Path save, String... parts) {
        Trainer t = trainer(TrainerTest.config(2)).saveTo(save);
        assertThatThrownBy(t::run).isInstanceOf(IllegalArgumentException.class).message().contains(parts).doesNotContain("\n");
        assertThat(t.step()).isZero();
    }

    @Test
    void aFileADeviceOrAFileAsParentIsRefusedNamingPathAndReason(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        refusedBeforeTraining(file, "save folder " + file, "it is a file, not a folder");
        refusedBeforeTraining(Path.of("/dev/null"), "save folder /dev/null", "not a folder (a device or other special file)");
        refusedBeforeTraining(file.resolve("save"), "save folder " + file.resolve("save"), "cannot create it", "a-file");
        assertThat(Files.readString(file)).isEqualTo("x");
    }

    @Test
    void aReadOnlyFolderIsRefused(@TempDir Path dir) throws IOException {
        Path ro = Files.createDirectories(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeThat(Files.isWritable(ro)).as("root writes into read-only folders; run as a user to check this").isFalse();
            refusedBeforeTraining(ro, "save folder " + ro, "cannot create a file in it: permission denied");
            refusedBeforeTraining(ro.resolve("sub"), "save folder " + ro.resolve("sub"), "cannot create it: permission denied");
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** Where the kernel refuses even root (sysfs), the reason is the kernel's. */
    @Test
    void aFolderTheKernelRefusesIsRefusedWithItsReason() {
        Path sys = Path.of("/sys/colo4j-save-check");
        assumeThat(Files.isDirectory(Path.of("/sys/kernel"))).isTrue();
        refusedBeforeTraining(sys, "save folder " + sys, "cannot create it");
        assertThat(sys).doesNotExist();
    }

    @Test
    void aFreshRunIntoAUsedFolderIsRefusedUnlessItResumesOrOverwrites(@TempDir Path dir) throws IOException {
        Path save = dir.resolve("save");
        trainer(TrainerTest.config(4).withSaveEvery(2)).saveTo(save).run();
        String latest = Files.readString(save.resolve(Trainer.LATEST));
        String losses = Files.readString(save.resolve(SaveFolder.LOSSES));

        refusedBeforeTraining(save, "save folder " + save + " already holds a run (checkpoint-2, checkpoint-4, latest, losses.csv)",
                "--resume " + save, "--overwrite");
        assertThat(Files.readString(save.resolve(Trainer.LATEST))).isEqualTo(latest);
        assertThat(Files.readString(save.resolve(SaveFolder.LOSSES))).isEqualTo(losses);

        assertThat(trainer(TrainerTest.config(6)).resume(save).saveTo(save).run().lastStep()).isEqualTo(6);

        // overwrite: the previous run's checkpoints go once the new run has its own
        trainer(TrainerTest.config(2).withSeed(8)).saveTo(save).overwriteSaveFolder().run();
        assertThat(Files.readString(save.resolve(Trainer.LATEST)).strip()).isEqualTo("checkpoint-2");
        try (var list = Files.list(save)) {
            assertThat(list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint-")).toList())
                    .isEqualTo(List.of("checkpoint-2"));
        }
        assertThat(Files.readAllLines(save.resolve(SaveFolder.LOSSES))).hasSize(3);
    }
}

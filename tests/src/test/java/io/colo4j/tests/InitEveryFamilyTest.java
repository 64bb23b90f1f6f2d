package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.zoo.ModelZoo;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code train --init DIR} for every family: the family comes from DIR's config.json (its model_type, when no --model
 * is given), the config too, and at tp = 2 each rank reads its shards of DIR's weights, so the run starts where the
 * serial one does (same losses) and not where a fresh model would. {@code --resume} finds the family the same way.
 */
class InitEveryFamilyTest {
    static Stream<String> families() {
        return ModelZoo.names().stream();
    }

    private static List<Double> train(String family, Path save, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--steps", "2", "--batch", "2", "--seq", "16", "--seed", "99"));
        if (family != null) {
            args.addAll(List.of("--model", family));
        }
        args.addAll(List.of(extra));
        return TrainRuns.train(save, args).losses();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void aShardedRunStartsFromTheInitFolderAsTheSerialOneDoes(String family, @TempDir Path dir) throws Exception {
        TrainRuns.train(dir.resolve("source"), List.of("--model", family, "--steps", "3", "--batch", "2", "--seq", "16", "--lr", "1e-2"));
        String init = dir.resolve("source").resolve("checkpoint-3").toString();
        List<Double> serial = train(family, dir.resolve("tp1"), "--init", init);
        // no --model: config.json's model_type names the family
        List<Double> sharded = train(null, dir.resolve("tp2"), "--init", init, "--tp", "2");
        List<Double> fresh = train(family, dir.resolve("fresh"));
        for (int i = 0; i < serial.size(); i++) {
            assertThat(sharded.get(i)).as("%s step %d", family, i).isCloseTo(serial.get(i), within(1e-5 * Math.abs(serial.get(i))));
        }
        assertThat(Math.abs(serial.get(0) - fresh.get(0))).as("%s: --init changes the starting loss", family).isGreaterThan(1e-4);
        TrainRuns.Run resumed = TrainRuns.train(dir.resolve("resumed"), List.of("--resume", dir.resolve("source").toString(), "--steps", "4",
                "--batch", "2", "--seq", "16", "--lr", "1e-2", "--tp", "2"));
        assertThat(resumed.log()).startsWith(family + " from ").contains("trained steps 3..3 in");
    }
}

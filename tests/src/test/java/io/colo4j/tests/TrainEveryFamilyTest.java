package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.zoo.ModelZoo;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** `colo4j train --model <family>` for every zoo family: tp = 2 on in-JVM ranks reproduces the serial losses. */
class TrainEveryFamilyTest {
    static Stream<String> families() {
        return ModelZoo.names().stream();
    }

    private static List<Double> train(String family, Path save, int tp, String... extra) throws Exception {
        return run(family, save, tp, 3, extra).losses();
    }

    private static TrainRuns.Run run(String family, Path save, int tp, int steps, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--model", family, "--steps", String.valueOf(steps), "--batch", "4",
                "--seq", "16", "--tp", String.valueOf(tp), "--log-every", "3"));
        args.addAll(List.of(extra));
        return TrainRuns.train(save, args);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void tensorParallelTrainingReproducesTheSerialLosses(String family, @TempDir Path dir) throws Exception {
        List<Double> serial = train(family, dir.resolve("tp1"), 1);
        List<Double> sharded = train(family, dir.resolve("tp2"), 2);
        assertThat(sharded).hasSameSizeAs(serial);
        for (int i = 0; i < serial.size(); i++) {
            assertThat(sharded.get(i)).as("%s step %d", family, i)
                    .isCloseTo(serial.get(i), org.assertj.core.api.Assertions.within(1e-5 * Math.abs(serial.get(i))));
        }
        assertThat(serial.get(serial.size() - 1)).isLessThan(serial.get(0));
    }

    /**
     * Each rank reads its shards of the gathered checkpoint back (the per-family loaders are shard-aware): resumed
     * with no step left, the run saves exactly the checkpoint's weights, moments, step counts and history; resumed
     * with one step left, it trains step 2 only, to the uninterrupted run's loss.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void aShardedRunResumesFromItsCheckpointToTheUninterruptedLosses(String family, @TempDir Path dir) throws Exception {
        List<Double> uninterrupted = train(family, dir.resolve("whole"), 2);
        train(family, dir.resolve("first"), 2, "--save-every", "2");
        Path checkpoint = dir.resolve("first").resolve("checkpoint-2");

        TrainRuns.Run restored = run(family, dir.resolve("restored"), 2, 2, "--resume", checkpoint.toString());
        assertThat(restored.log()).contains(TrainRuns.resumedAt(checkpoint, 2)).doesNotContain("trained steps");
        TrainRuns.assertRestoredState(dir.resolve("restored").resolve("checkpoint-2"), checkpoint);

        TrainRuns.Run resumed = run(family, dir.resolve("resumed"), 2, 3, "--resume", checkpoint.toString());
        assertThat(resumed.log()).contains(TrainRuns.resumedAt(checkpoint, 2), TrainRuns.trainedSteps(2, 2));
        assertThat(resumed.losses()).hasSameSizeAs(uninterrupted);
        for (int i = 0; i < uninterrupted.size(); i++) {
            assertThat(resumed.losses().get(i)).as("%s step %d", family, i)
                    .isCloseTo(uninterrupted.get(i), org.assertj.core.api.Assertions.within(1e-5 * Math.abs(uninterrupted.get(i))));
        }
    }
}

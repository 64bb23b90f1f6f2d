package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.zoo.ModelZoo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * `colo4j train --sequence-parallel --dropout 0.1` for every zoo family: at tp 2 and 4 the losses are the serial
 * run's (the dropout masks of a sequence split are drawn by the serial element index, as every other layout's).
 */
class SequenceParallelTrainingTest {
    static Stream<String> families() {
        return ModelZoo.names().stream();
    }

    private static List<Double> train(String family, Path save, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--model", family, "--steps", "2", "--batch", "4", "--seq", "16",
                "--log-every", "2", "--dropout", "0.1"));
        args.addAll(List.of(extra));
        return TrainRuns.train(save, args).losses();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void sequenceParallelTrainingReproducesTheSerialLosses(String family, @TempDir Path dir) throws Exception {
        List<Double> serial = train(family, dir.resolve("serial"));
        for (String tp : new String[] {"2", "4"}) {
            List<Double> losses = train(family, dir.resolve("tp" + tp), "--tp", tp, "--sequence-parallel");
            assertThat(losses).hasSameSizeAs(serial);
            for (int i = 0; i < serial.size(); i++) {
                assertThat(losses.get(i)).as("%s tp %s step %d", family, tp, i)
                        .isCloseTo(serial.get(i), within(1e-5 * Math.abs(serial.get(i))));
            }
        }
    }

    @Test
    void aSequenceTpDoesNotDivideIsRefusedBeforeAnyRankStarts(@TempDir Path dir) {
        TrainRuns.Attempt a = TrainRuns.attempt(List.of("train", "--model", "t5", "--steps", "1", "--batch", "2", "--seq", "16",
                "--tp", "3", "--sequence-parallel", "--save", dir.resolve("run").toString()));
        assertThat(a.rc()).isEqualTo(1);
        assertThat(a.err()).contains("--seq 16 is not a multiple of --tp 3").contains("token dim (dim 1");
    }

    @Test
    void theRunHeaderShowsReduceScatterAndAllGatherPerLayer(@TempDir Path dir) throws Exception {
        String log = TrainRuns.train(dir.resolve("run"), List.of("--model", "gpt2", "--steps", "1", "--batch", "2", "--seq", "16",
                "--tp", "2", "--sequence-parallel")).log();
        assertThat(log).contains("gpt2.rules.json (sequence parallel)")
                .contains("transformer.h.0-1 x2: forward 2 all_gather, 2 reduce_scatter; backward 2 all_gather, 2 reduce_scatter\n")
                .contains("(model): backward 1 all_reduce"); // the norms' and row biases' gradients, summed once after backward
    }
}

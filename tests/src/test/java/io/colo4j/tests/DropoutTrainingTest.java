package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.zoo.ModelZoo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * `colo4j train --dropout 0.1` for every zoo family: at tp 2 and 4 and at dp 2 the losses are the serial run's
 * (each dropout mask bit is a function of the element's global index, not of the rank that draws it), and
 * dropout really is on (the losses differ from a run without it).
 */
class DropoutTrainingTest {
    static Stream<String> families() {
        return ModelZoo.names().stream();
    }

    private static List<Double> train(String family, Path save, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--model", family, "--steps", "2", "--batch", "4", "--seq", "16",
                "--log-every", "2"));
        args.addAll(List.of(extra));
        return TrainRuns.train(save, args).losses();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void trainingWithDropoutReproducesTheSerialLossesAtAnyTpAndDp(String family, @TempDir Path dir) throws Exception {
        List<Double> serial = train(family, dir.resolve("serial"), "--dropout", "0.1");
        assertThat(train(family, dir.resolve("off"), "--dropout", "0")).as("%s without dropout", family).isNotEqualTo(serial);
        for (String[] layout : new String[][] {{"--tp", "2"}, {"--tp", "4"}, {"--dp", "2"}}) {
            List<Double> losses = train(family, dir.resolve(String.join("", layout)), layout[0], layout[1], "--dropout", "0.1");
            assertThat(losses).hasSameSizeAs(serial);
            for (int i = 0; i < serial.size(); i++) {
                assertThat(losses.get(i)).as("%s %s step %d", family, String.join(" ", layout), i)
                        .isCloseTo(serial.get(i), within(1e-5 * Math.abs(serial.get(i))));
            }
        }
    }
}

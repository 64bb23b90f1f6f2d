package io.colo4j.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The example main's training run: several AdamW steps on tp ranks give the serial losses, and the rules did shard. */
class TrainTinyLmTest {
    private static final TrainTinyLm.Config CONFIG = TrainTinyLm.Config.DEFAULT;
    private static final List<Float> SERIAL = TrainTinyLm.trainSerial(CONFIG);

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void lossesOnRanksAreTheSerialLosses(int tp) {
        TrainTinyLm.Result r = TrainTinyLm.train(tp, CONFIG);
        assertThat(r.losses()).hasSize(CONFIG.steps());
        for (int step = 0; step < CONFIG.steps(); step++) {
            float serial = SERIAL.get(step);
            assertThat(r.losses().get(step)).as("step %d loss", step).isCloseTo(serial, within(1e-5f * Math.abs(serial)));
        }
        // Replicated parameters would give the serial losses too: the sharded run must have communicated.
        assertThat(r.collectives()).as("collectives on a rank").isPositive();
    }

    @Test
    void theModelLearns() {
        assertThat(SERIAL.getLast()).isLessThan(SERIAL.getFirst() * 0.9f);
    }

    /** 4 d = 32 hidden features do not split 3 ways: refused naming the parameter, before a step runs. */
    @Test
    void anOddTpIsRefusedNamingTheParameter() {
        assertThatThrownBy(() -> TrainTinyLm.train(3, CONFIG)).hasStackTraceContaining("up.weight").hasStackTraceContaining("tp=3");
    }
}

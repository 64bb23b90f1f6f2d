package io.colo4j.ops.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void warmsUpLinearlyThenDecaysByCosineToTheFloor() {
        LrSchedule s = LrSchedule.warmupCosine(1.0, 10, 110, 0.1);
        assertThat(s.lr(0)).isCloseTo(0.1, within(1e-12));
        assertThat(s.lr(4)).isCloseTo(0.5, within(1e-12));
        assertThat(s.lr(9)).isCloseTo(1.0, within(1e-12));
        assertThat(s.lr(10)).isCloseTo(1.0, within(1e-12));
        assertThat(s.lr(60)).isCloseTo(0.55, within(1e-12));
        assertThat(s.lr(110)).isCloseTo(0.1, within(1e-12));
        assertThat(s.lr(500)).isCloseTo(0.1, within(1e-12));
        for (long t = 10; t < 110; t++) {
            assertThat(s.lr(t + 1)).isLessThanOrEqualTo(s.lr(t));
        }
    }

    @Test
    void noWarmupStartsAtThePeak() {
        LrSchedule s = LrSchedule.warmupCosine(3e-4, 0, 100, 0.0);
        assertThat(s.lr(0)).isCloseTo(3e-4, within(1e-15));
        assertThat(s.lr(100)).isZero();
        assertThat(LrSchedule.constant(0.5).lr(1234)).isEqualTo(0.5);
        assertThatThrownBy(() -> LrSchedule.warmupCosine(1, 0, 10, 2)).isInstanceOf(IllegalArgumentException.class);
    }
}

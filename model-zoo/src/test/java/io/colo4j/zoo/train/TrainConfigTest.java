package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TrainConfigTest {
    @Test
    void badSettingsAreNamedByOptionAndValue() {
        assertThatThrownBy(() -> TrainConfig.defaults(10, 0, 64)).hasMessage("train config: --batch 0 must be >= 1");
        assertThatThrownBy(() -> TrainConfig.defaults(-1, 8, 0))
                .hasMessage("train config: --steps -1 must be >= 0; --seq 0 must be >= 1");
        assertThatThrownBy(() -> TrainConfig.defaults(10, 8, 64).withLr(Double.NaN, 1)).hasMessage("train config: --lr NaN must be finite and >= 0");
        assertThatThrownBy(() -> TrainConfig.defaults(10, 8, 64).withLr(Double.POSITIVE_INFINITY, 1))
                .hasMessage("train config: --lr Infinity must be finite and >= 0");
        assertThatThrownBy(() -> TrainConfig.defaults(10, 8, 64).withMinLrRatio(2)).hasMessage("train config: --min-lr-ratio 2.0 must be in [0, 1]");
    }
}

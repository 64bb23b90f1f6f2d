package io.colo4j.zoo.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.autograd.Recompute;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fit recovers a step's terms from five windows; each layout is sized from its own traced figures. */
class ActivationLayoutsTest {
    private static final ActivationFit EXACT = new ActivationFit(1000, 96, 8, 4, 3072);

    @Test
    void fiveWindowsDetermineTheFiveTerms() {
        List<StepTrace.Window> windows = ActivationFit.windows(new StepTrace.Window(2, 8));
        List<Long> bytes = windows.stream().map(w -> Math.round(EXACT.at(w.batch(), w.seq()))).toList();
        ActivationFit fit = ActivationFit.of(windows, bytes);
        assertThat(fit.at(3, 1024)).isCloseTo(EXACT.at(3, 1024), org.assertj.core.data.Offset.offset(1e-3));
        assertThat(fit.perTokenSeq()).isCloseTo(8, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(fit.perSeqSquared()).isCloseTo(4, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(fit.perPosition()).isCloseTo(3072, org.assertj.core.data.Offset.offset(1e-6));
    }

    /**
     * A layout's sizing is its own: outside the layers once, a layer times the model's layers, the larger phase; an untraced
     * layout is refused.
     */
    @Test
    void eachLayoutIsSizedFromItsOwnFigures() {
        ActivationLayouts.Layout none = new ActivationLayouts.Layout(Recompute.NONE, false);
        ActivationLayouts.Layout full = new ActivationLayouts.Layout(Recompute.FULL, true);
        ActivationLayouts a = new ActivationLayouts(java.util.Map.of(
                none, new ActivationSizing(2, 10, List.of(new ActivationSizing.Phase(new ActivationFit(0, 96, 8, 0, 0),
                        new ActivationFit(500, 10, 0, 4, 0)))),
                // full: the head's phase holds each layer's input, the layers' phase one layer's activations (and peaks at s = 16)
                full, new ActivationSizing(2, 10, List.of(new ActivationSizing.Phase(new ActivationFit(0, 4, 0, 0, 0),
                        new ActivationFit(500, 10, 0, 4, 0)), new ActivationSizing.Phase(new ActivationFit(0, 4, 0, 0, 0),
                        new ActivationFit(500, 106, 8, 4, 0))))));
        long b = 2;
        long s = 16;
        long t = b * s;
        assertThat(a.bytesPerRank(none, b, s)).isEqualTo(500 + 10 * t + 4 * s * s + 10 * (96 * t + 8 * t * s));
        assertThat(a.bytesPerRank(full, b, s)).isEqualTo(500 + 106 * t + 8 * t * s + 4 * s * s + 10 * 4 * t);
        assertThat(a.layers()).isEqualTo(10);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.bytesPerRank(new ActivationLayouts.Layout(Recompute.SELECTIVE, false), b, s))
                .hasMessageContaining("recompute selective").hasMessageContaining("traced");
    }
}

package io.colo4j.zoo.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.autograd.Recompute;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fit recovers a step's terms from four windows; recompute and sequence parallelism act on the terms they should. */
class ActivationLayoutsTest {
    private static final ActivationFit EXACT = new ActivationFit(1000, 96, 8, 4);

    @Test
    void fourWindowsDetermineTheFourTerms() {
        List<StepTrace.Window> windows = ActivationFit.windows(new StepTrace.Window(2, 8));
        List<Long> bytes = windows.stream().map(w -> Math.round(EXACT.at(w.batch(), w.seq()))).toList();
        ActivationFit fit = ActivationFit.of(windows, bytes);
        assertThat(fit.at(3, 1024)).isCloseTo(EXACT.at(3, 1024), org.assertj.core.data.Offset.offset(1e-3));
        assertThat(fit.perTokenSeq()).isCloseTo(8, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(fit.perSeqSquared()).isCloseTo(4, org.assertj.core.data.Offset.offset(1e-9));
    }

    /** 10 layers at tp 2; a layer: 1000 fixed, 96 per token of which 48 whole on every rank, 8 b s^2; 8 bytes input per token. */
    @Test
    void recomputeAndSequenceParallelismTakeTheirTerms() {
        ActivationFit layer = new ActivationFit(1000, 96, 8, 0);
        ActivationFit serialLayer = new ActivationFit(1000, 48 + 2 * 48, 16, 0);
        ActivationSizing a = new ActivationSizing(2, layer, new ActivationFit(500, 10, 0, 0), 10, 8, serialLayer);
        assertThat(a.replicatedPerLayerPerToken()).isEqualTo(48);
        long b = 2;
        long s = 16;
        long t = b * s;
        long outside = 500 + 10 * t;
        assertThat(ActivationLayouts.bytesPerRank(a, Recompute.NONE, false, b, s)).isEqualTo(outside + 10 * (1000 + 96 * t + 8 * t * s));
        // SP: the 48 whole bytes per token split over 2, but for the two gathered column inputs (2 x 8) kept whole
        assertThat(ActivationLayouts.bytesPerRank(a, Recompute.NONE, true, b, s)).isEqualTo(outside + 10 * (1000 + 88 * t + 8 * t * s));
        // selective: one layer's scores
        assertThat(ActivationLayouts.bytesPerRank(a, Recompute.SELECTIVE, false, b, s)).isEqualTo(outside + 10 * (1000 + 96 * t) + 8 * t * s);
        // full: every layer's input and fixed temporaries, one layer's activations
        assertThat(ActivationLayouts.bytesPerRank(a, Recompute.FULL, false, b, s)).isEqualTo(outside + 10 * (1000 + 8 * t) + 96 * t + 8 * t * s);
        assertThat(ActivationLayouts.bytesPerRank(a, Recompute.FULL, true, b, s)).isEqualTo(outside + 10 * (1000 + 4 * t) + 88 * t + 8 * t * s);
    }
}

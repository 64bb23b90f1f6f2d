package io.colo4j.zoo.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.LanguageModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A sizing proxy's steps with the work its zeros make needless skipped ({@link ProxyKernels}: products written, not
 * computed; {@link SharedZeros}: parameters and gradients views of one zero block) measure what the computed steps measure:
 * per window the same collectives (module, op, kind, bytes, phase) and the same step peak on every rank, the same
 * parameters without a gradient and summed after backward. Every family, tp 1 and 2, with and without sequence parallelism,
 * every recompute.
 */
class ProxyZeroWorkTest {
    private static final String[] FAMILIES = {"gpt2", "opt", "llama", "bert", "t5"};

    @Test
    void skippingTheZerosWorkChangesNoMeasurement() {
        for (String name : FAMILIES) {
            ModelZoo.Family family = ModelZoo.family(name);
            for (int tp : new int[] {1, 2}) {
                compare(family, tp);
            }
            compare(family.withSequenceParallel(true), 2);
        }
    }

    private static void compare(ModelZoo.Family family, int tp) {
        String config = "tiny";
        LanguageModel lm = family.languageModel(family.buildLazily(config));
        int unit = tp * lm.windowStep();
        StepTrace.Window base = new StepTrace.Window(2, Math.ceilDiv(SizingPlan.MIN_PROBE_SEQ, unit) * unit);
        List<StepTrace.Window> windows = ActivationFit.windows(base);
        ModelZoo.ProxyShape shape = new ModelZoo.ProxyShape(ProxyLayers.MAX_LAYERS, SizingPlan.PROXY_VOCAB_PER_TP * tp,
                Math.max(2 * base.seq(), lm.maxSequenceLength()));
        // the sizing proxy, and the single-layer one under every recompute (a result per mode)
        List<StepTrace.Proxy> proxies = new ArrayList<>(List.of(new StepTrace.Proxy(family, shape),
                new StepTrace.Proxy(family, shape.withLayers(1), List.of(Recompute.values()))));
        List<StepTrace.Result> skipped = StepTrace.runProxies(config, proxies, tp, windows, true);
        List<StepTrace.Result> computed = StepTrace.runProxies(config, proxies, tp, windows, false);
        assertThat(skipped).hasSize(1 + Recompute.values().length);
        for (int i = 0; i < skipped.size(); i++) {
            String what = family.name() + " tp " + tp + (family.rules().sequenceParallel() ? " sp" : "") + " proxy " + i;
            StepTrace.Result s = skipped.get(i);
            StepTrace.Result c = computed.get(i);
            assertThat(s.stepPeakBytesPerRank()).as(what).isEqualTo(c.stepPeakBytesPerRank());
            assertThat(s.windows()).as(what).isEqualTo(c.windows());
            assertThat(s.withoutGradient()).as(what).isEqualTo(c.withoutGradient());
            assertThat(s.gradSummedAfterBackward()).as(what).isEqualTo(c.gradSummedAfterBackward());
            assertThat(s.stacks().layers()).as(what).isEqualTo(c.stacks().layers());
        }
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.train.LanguageModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --recompute selective|full} for every zoo family at tp 1 and 2, with dropout on: one step's loss and every
 * gradient (each rank's shard) are the same bits as without recompute, and the step's peak of step-scoped memory
 * (activations) is lower, so recompute that silently kept everything would fail here; trained losses over a few steps
 * are equal too.
 */
class RecomputeEquivalenceTest {
    private static final int BATCH = FamilyStep.BATCH;
    private static final int SEQ = FamilyStep.SEQ;

    @ParameterizedTest(name = "{0} tp {1} sequence parallel {2}")
    @MethodSource("io.colo4j.tests.FamilyStep#familiesAndTp") // SP too: its gathered regions must be rerun like copy_to_tp's
    void recomputeGivesTheSameGradientBitsWithLessActivationMemory(String family, int tp, boolean sequenceParallel) {
        List<Map<Recompute, FamilyStep.Result>> ranks = FamilyStep.onEveryRank(family, tp, sequenceParallel, (model, lm, x, y) -> {
            Map<Recompute, FamilyStep.Result> steps = new EnumMap<>(Recompute.class);
            for (Recompute mode : Recompute.values()) {
                steps.put(mode, step(model, lm, x, y, mode));
            }
            return steps;
        });
        for (int r = 0; r < tp; r++) {
            FamilyStep.Result none = ranks.get(r).get(Recompute.NONE);
            for (Recompute mode : List.of(Recompute.SELECTIVE, Recompute.FULL)) {
                FamilyStep.Result step = ranks.get(r).get(mode);
                String what = family + " tp " + tp + (sequenceParallel ? " sp" : "") + " rank " + r + " --recompute " + mode.optionName();
                assertThat(step.loss()).as("%s loss", what).isEqualTo(none.loss());
                assertThat(step.grads().keySet()).as(what).containsExactlyElementsOf(none.grads().keySet());
                none.grads().forEach((name, g) -> assertThat(step.grads().get(name)).as("%s %s grad", what, name).containsExactly(g));
                assertThat(step.activationPeak()).as("%s activation peak (none: %d bytes)", what, none.activationPeak())
                        .isLessThan(none.activationPeak());
            }
        }
    }

    private static FamilyStep.Result step(Module model, LanguageModel lm, IntTensor x, IntTensor y, Recompute mode) {
        return FamilyStep.run(model, lm, x, y, mode, Tensor::backward);
    }

    /**
     * GPT-2 at tp 2: full recompute issues each layer's forward all-reduces again in backward (as Megatron does; the
     * trace records them as forward collectives), the head's and the backward's are unchanged; selective adds none
     * (the attention core has no collective at tp).
     */
    @Test
    void fullRecomputeRunsEachLayersForwardCollectivesAgain() {
        ModelZoo.Family f = ModelZoo.family("gpt2");
        HfFamilyOps hf = f.requireHf();
        HfConfig cfg = hf.config("tiny");
        int layers = ((io.colo4j.zoo.gpt2.Gpt2Config) cfg).nLayer();
        IntTensor x = IntTensor.of(new int[BATCH * SEQ], BATCH, SEQ);
        List<Map<Recompute, Map<CommTrace.Phase, Long>>> ranks = ThreadWorld.call(2, comm -> {
            Module model = f.buildOnRank(cfg, 7, comm);
            LanguageModel lm = hf.languageModel(model);
            CommTrace trace = ColoTensor.dist(model.parameters().get(0)).context().trace();
            trace.enable(true);
            Map<Recompute, Map<CommTrace.Phase, Long>> counts = new EnumMap<>(Recompute.class);
            for (Recompute mode : Recompute.values()) {
                trace.clear();
                step(model, lm, x, x, mode);
                Map<CommTrace.Phase, Long> byPhase = new EnumMap<>(CommTrace.Phase.class);
                trace.records().stream().filter(r -> r.collective() == CollectiveKind.ALL_REDUCE && r.module().startsWith("transformer.h."))
                        .forEach(r -> byPhase.merge(r.phase(), 1L, Long::sum));
                counts.put(mode, byPhase);
            }
            MemoryScope.releaseThreadCache();
            return counts;
        });
        Map<Recompute, Map<CommTrace.Phase, Long>> counts = ranks.get(0);
        assertThat(counts.get(Recompute.NONE)).containsEntry(CommTrace.Phase.FORWARD, 2L * layers)
                .containsEntry(CommTrace.Phase.BACKWARD, 2L * layers);
        assertThat(counts.get(Recompute.SELECTIVE)).isEqualTo(counts.get(Recompute.NONE));
        assertThat(counts.get(Recompute.FULL)).containsEntry(CommTrace.Phase.FORWARD, 4L * layers)
                .containsEntry(CommTrace.Phase.BACKWARD, 2L * layers);
    }

    @Test
    void anUnknownModeIsRefusedNamingTheChoices() {
        for (List<String> args : List.of(List.of("train", "--model", "gpt2", "--steps", "1", "--recompute", "partial"),
                List.of("bench", "train", "--model", "gpt2", "--config", "tiny", "--tp", "1", "--steps", "1", "--no-anchor",
                        "--recompute", "partial"))) {
            TrainRuns.Attempt attempt = TrainRuns.attempt(args);
            assertThat(attempt.rc()).as(String.join(" ", args)).isEqualTo(1);
            assertThat(attempt.err()).as(String.join(" ", args)).contains("--recompute partial").contains("none, selective, full");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.colo4j.tests.DropoutTrainingTest#families")
    void trainedLossesAreTheSameWithRecompute(String family, @TempDir Path dir) throws Exception {
        List<Double> none = null;
        List<String> noneHeader = null;
        for (String mode : List.of("none", "selective", "full")) {
            List<String> args = new ArrayList<>(List.of("--model", family, "--steps", "3", "--batch", "4", "--seq", "16",
                    "--log-every", "3", "--dropout", "0.1", "--tp", "2", "--recompute", mode));
            TrainRuns.Run run = TrainRuns.train(dir.resolve(mode), args);
            assertThat(run.log()).contains("activation peak per rank").contains("--recompute " + mode);
            // the header's collectives per layer are the run's own: full recompute runs each layer's forward ones again
            List<String> header = run.log().lines().filter(l -> l.startsWith("  ") && l.contains(": forward")).toList();
            if (none == null) {
                none = run.losses();
                noneHeader = header;
                assertThat(header).as("%s header", family).isNotEmpty();
            } else {
                assertThat(run.losses()).as("%s --recompute %s", family, mode).containsExactlyElementsOf(none);
                if (mode.equals("full")) {
                    assertThat(header).as("%s header under --recompute full", family).isNotEqualTo(noneHeader);
                } else {
                    assertThat(header).as("%s header under --recompute %s", family, mode).isEqualTo(noneHeader);
                }
            }
        }
    }
}

package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.F;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.ops.optim.GradClip;
import io.colo4j.ops.optim.LrSchedule;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.hf.HfLanguageModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --skip-nonfinite}: a step whose loss or gradient norm is not finite leaves the weights, AdamW moments and step
 * counts as they were and the run goes on; too many in a row still stop it; trainer.json keeps the skipped steps; at
 * tp 2 x dp 2 every rank skips the same step. Without the flag the old stop holds ({@link DivergenceTest}).
 */
class SkipNonFiniteTest {
    /** Relative tolerance between two runs in one JVM (see TrainerTest: the JIT rounds before and after C2). */
    private static final double RTOL = 2e-5;

    /** The loss scaled by {@code factor} at the steps {@code poisoned} picks: NaN poisons the loss, 1e30 only the gradient norm. */
    record Poisoned(LanguageModel inner, LongPredicate poisoned, float factor) implements LanguageModel.LossWrapper {
        @Override
        public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
            Tensor loss = inner.loss(inputs, targets, step);
            return poisoned.test(step) ? F.scale(loss, factor) : loss;
        }
    }

    /**
     * Only the loss's value is NaN at step {@code at}; its gradients stay finite (a NaN added without a gradient path),
     * so nothing but the trainer's own decision can make the other tp ranks skip the step too.
     */
    record NanValue(LanguageModel inner, long at) implements LanguageModel.LossWrapper {
        @Override
        public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
            Tensor loss = inner.loss(inputs, targets, step);
            return step == at ? F.add(loss, F.scale(loss.detach(), Float.NaN)) : loss;
        }
    }

    /** What a run holds as a step starts: weights, AdamW moments and step counts, and whether any gradient is left. */
    record State(Map<String, float[]> weights, Map<String, float[]> moments, Map<String, Long> stepCounts, boolean gradientsLeft) {}

    /** The poisoned model, recording the run's state as each step starts (before its forward). */
    static final class Recording implements LanguageModel.LossWrapper {
        private final Poisoned poisoned;
        final Map<Long, State> states = new LinkedHashMap<>();
        Trainer trainer;

        Recording(Poisoned poisoned) {
            this.poisoned = poisoned;
        }

        @Override
        public LanguageModel inner() {
            return poisoned.inner();
        }

        @Override
        public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
            Map<String, float[]> moments = new LinkedHashMap<>();
            trainer.optimizer().stateTensors().forEach((name, t) -> moments.put(name, t.toFloatArray()));
            boolean gradients = false;
            for (Parameter p : inner().module().namedParameters().values()) {
                if (p.grad() != null) {
                    for (float g : p.grad().toFloatArray()) {
                        gradients |= g != 0;
                    }
                }
            }
            states.put(step, new State(MicroTraining.weights(inner()), moments, new LinkedHashMap<>(trainer.optimizer().stepCounts()), gradients));
            return poisoned.loss(inputs, targets, step);
        }
    }

    private static void assertSame(State actual, State expected) {
        actual.weights().forEach((name, w) -> assertThat(w).as(name).containsExactly(expected.weights().get(name)));
        assertThat(actual.moments().keySet()).isEqualTo(expected.moments().keySet());
        actual.moments().forEach((name, m) -> assertThat(m).as(name).containsExactly(expected.moments().get(name)));
        assertThat(actual.stepCounts()).isEqualTo(expected.stepCounts());
    }

    private static void assertCloseLosses(List<Float> actual, List<Float> expected, long skipped) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            if (i != skipped) { // the skipped step's loss is NaN, or finite on a rank whose own loss was
                assertThat(actual.get(i)).as("loss of step %d", i).isCloseTo(expected.get(i), within((float) RTOL * Math.abs(expected.get(i))));
            }
        }
    }

    @Test
    void aSkippedStepLeavesWeightsMomentsAndStepCountsBitIdenticalAndZeroesTheGradients() throws IOException {
        Recording model = new Recording(new Poisoned(MicroTraining.model(), s -> s == 2, Float.NaN));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer trainer = MicroTraining.trainer(model, TrainerTest.config(5)).skipNonFinite(3)
                .log(new PrintStream(log, true, StandardCharsets.UTF_8), false);
        model.trainer = trainer;
        Trainer.Result result = trainer.run();

        assertThat(trainer.step()).isEqualTo(5);
        assertThat(trainer.skippedSteps()).containsExactly(2L);
        assertThat(result.losses().get(2)).isNaN();
        assertSame(model.states.get(3L), model.states.get(2L));
        assertThat(model.states.get(3L).gradientsLeft()).as("gradients after the skipped step").isFalse();
        // a step taken does change the state, so the comparison above can fail
        assertThat(model.states.get(2L).weights().get("transformer.wte.weight"))
                .isNotEqualTo(model.states.get(1L).weights().get("transformer.wte.weight"));
        assertThat(model.states.get(2L).stepCounts()).isNotEqualTo(model.states.get(1L).stepCounts());
        String out = log.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("step 3/5 skipped: the loss is NaN; no optimizer update, gradients zeroed (--skip-nonfinite: 1 skipped so far, 1 in a row)")
                .contains("1 skipped (non-finite) in the whole run");
    }

    /**
     * The reference run that "did not take step k's update", written out by hand: the trainer's loop (same batches,
     * schedule, clip and AdamW) with step k's gradients thrown away.
     */
    private static List<Float> withoutTheUpdateOf(long skipped, TrainConfig config) {
        LanguageModel model = MicroTraining.model();
        AdamW adam = new AdamW(model.module().namedParameters(),
                new AdamW.Options(config.lr(), config.beta1(), config.beta2(), 1e-8, config.weightDecay()));
        LrSchedule schedule = LrSchedule.warmupCosine(config.lr(), config.warmup(), config.steps(), config.minLrRatio());
        List<Parameter> parameters = List.copyOf(model.module().namedParameters().values());
        model.module().train(true);
        List<Float> losses = new ArrayList<>();
        for (long step = 0; step < config.steps(); step++) {
            adam.setLr(schedule.lr(step));
            try (MemoryScope scope = MemoryScope.open()) {
                IntTensor[] xy = MicroTraining.data().batch(config.seed(), step, config.batch(), config.seq());
                Tensor loss = model.loss(xy[0], xy[1], step);
                loss.backward();
                losses.add(step == skipped ? Float.NaN : loss.item());
            }
            if (step != skipped) {
                GradClip.clip(parameters, parameters, config.clip(), x -> x);
                adam.step();
            }
            adam.zeroGrad();
        }
        return losses;
    }

    @Test
    void aRunWithOneNanStepEqualsARunThatDidNotTakeThatStepsUpdate() throws IOException {
        TrainConfig config = TrainerTest.config(6);
        List<Float> skipped = MicroTraining.trainer(new Poisoned(MicroTraining.model(), s -> s == 2, Float.NaN), config)
                .skipNonFinite(3).run().losses();
        List<Float> reference = withoutTheUpdateOf(2, config);
        assertCloseLosses(skipped, reference, 2);
        // the comparison has teeth: a run that took step 2's update differs after it by far more than the tolerance
        List<Float> whole = MicroTraining.trainer(config).run().losses();
        assertThat(Math.abs(whole.get(3) - skipped.get(3))).isGreaterThan(100 * (float) RTOL * whole.get(3));
    }

    @Test
    void anInfiniteGradientNormIsSkippedToo() throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer trainer = MicroTraining.trainer(new Poisoned(MicroTraining.model(), s -> s == 1, 1e30f), TrainerTest.config(3))
                .skipNonFinite(3).log(new PrintStream(log, true, StandardCharsets.UTF_8), false);
        trainer.run();
        assertThat(trainer.skippedSteps()).containsExactly(1L);
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("step 2/3 skipped: the gradient norm is Infinity;");
    }

    @Test
    void tooManySkipsInARowStopTheRun() {
        Recording model = new Recording(new Poisoned(MicroTraining.model(), s -> s >= 1, Float.NaN));
        Trainer trainer = MicroTraining.trainer(model, TrainerTest.config(8)).skipNonFinite(3);
        model.trainer = trainer;
        TrainingDiverged e = catchThrowableOfType(TrainingDiverged.class, trainer::run);
        assertThat(e).isNotNull();
        assertThat(e.step()).isEqualTo(4);
        assertThat(e.getMessage()).startsWith("step 4/8: the loss is NaN;").contains("3 steps in a row (2..4) were not finite, so --skip-nonfinite stops here");
        assertThat(trainer.step()).isEqualTo(3);
        assertThat(trainer.skippedSteps()).containsExactly(1L, 2L);
        assertSame(model.states.get(3L), model.states.get(1L));
        assertThatThrownBy(() -> trainer.skipNonFinite(0)).hasMessageContaining("must be >= 1, got 0");
    }

    @Test
    void aResumedRunKeepsItsSkippedStepsAndTrainerJsonIsReadStrictly(@TempDir Path dir) throws IOException {
        Path save = dir.resolve("save");
        TrainConfig config = TrainerTest.config(6).withSaveEvery(2);
        Trainer.Result whole = MicroTraining.trainer(new Poisoned(MicroTraining.model(), s -> s == 2, Float.NaN), config)
                .skipNonFinite(3).saveTo(save).run();
        Path checkpoint = save.resolve("checkpoint-4");
        Path json = checkpoint.resolve(Trainer.STATE);
        String text = Files.readString(json);
        assertThat(text.replaceAll("\\s", "")).contains("\"skipped_steps\":[2]");

        Trainer resumed = MicroTraining.trainer(MicroTraining.model(), config).skipNonFinite(3).resume(checkpoint);
        assertThat(resumed.skippedSteps()).containsExactly(2L);
        assertThat(resumed.losses().get(2)).isNaN();
        Trainer.Result rest = resumed.run();
        assertThat(resumed.skippedSteps()).containsExactly(2L);
        for (int i = 0; i < 2; i++) {
            assertThat(rest.losses().get(i)).isCloseTo(whole.losses().get(4 + i), within((float) RTOL * whole.losses().get(4 + i)));
        }

        // a null loss is only read at a skipped step; skipped steps increase and lie below the step
        String compact = text.replaceAll("\\s", "");
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, compact.replace("\"skipped_steps\":[2]", "\"skipped_steps\":[]"));
        assertThatThrownBy(() -> TrainState.read(bad, "colo4j-train-checkpoint/1")).hasMessage(bad + ": field 'losses[2]' is null, not a finite number");
        Files.writeString(bad, compact.replace("\"skipped_steps\":[2]", "\"skipped_steps\":[2,2]"));
        assertThatThrownBy(() -> TrainState.read(bad, "colo4j-train-checkpoint/1")).hasMessage(bad + ": field 'skipped_steps[1]' is 2, outside 3..3");
        Files.writeString(bad, compact.replace("\"skipped_steps\":[2]", "\"skipped_steps\":[2,4]"));
        assertThatThrownBy(() -> TrainState.read(bad, "colo4j-train-checkpoint/1")).hasMessage(bad + ": field 'skipped_steps[1]' is 4, outside 3..3");
        Files.writeString(bad, compact.replace("\"skipped_steps\":[2]", "\"skipped_steps\":\"2\""));
        assertThatThrownBy(() -> TrainState.read(bad, "colo4j-train-checkpoint/1")).hasMessage(bad + ": field 'skipped_steps' is string, not an array");
        // written before --skip-nonfinite existed: no field, nothing skipped
        Files.writeString(bad, compact.replace(",\"skipped_steps\":[2]", "").replace("null", "5.5"));
        assertThat(TrainState.read(bad, "colo4j-train-checkpoint/1").skippedSteps()).isEmpty();
    }

    /** The ranks of a tp 2 x dp 2 run of the micro model under the bundled GPT-2 rules, step 1 poisoned on the given ranks (-1: all). */
    private static List<Trainer.Result> tp2dp2(int poisonedTp, int poisonedDp, boolean valueOnly, int zeroStage) {
        return ThreadWorld.call(4, comm -> {
            Gpt2Model m;
            DistContext context;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(2, 2), comm, "cpu")) {
                m = new Gpt2Model(TrainerTest.MICRO, 5);
                context = ctx.context();
            }
            ModelZoo.family("gpt2").rules().apply(m);
            LanguageModel lm = new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, m);
            boolean here = (poisonedTp < 0 || context.rank().tpRank() == poisonedTp) && (poisonedDp < 0 || context.rank().dpRank() == poisonedDp);
            LanguageModel model = !here ? lm : valueOnly ? new NanValue(lm, 1) : new Poisoned(lm, s -> s == 1, Float.NaN);
            Trainer trainer = MicroTraining.trainer(model, TrainerTest.config(4)).skipNonFinite(3).distributed(context, zeroStage);
            Trainer.Result result = trainer.run();
            assertThat(trainer.skippedSteps()).as("rank %s", context.rank()).containsExactly(1L);
            return result;
        });
    }

    @Test
    void atTp2Dp2EveryRankSkipsTheSameStepAndTheRunMatchesTheSerialOne() throws IOException {
        List<Float> serial = MicroTraining.trainer(new Poisoned(MicroTraining.model(), s -> s == 1, Float.NaN), TrainerTest.config(4))
                .skipNonFinite(3).run().losses();
        // poisoned everywhere; on one rank (its NaN gradients spread through the backward collectives); on one rank
        // with finite gradients (only the NaN folded into the tp-reduced norm tells the other tp rank); everywhere under ZeRO 2
        for (List<Trainer.Result> ranks : List.of(tp2dp2(-1, -1, false, 0), tp2dp2(1, 0, false, 0), tp2dp2(1, 0, true, 0),
                tp2dp2(-1, -1, false, 2))) {
            for (Trainer.Result rank : ranks) {
                assertCloseLosses(rank.losses(), serial, 1);
            }
        }
    }
}

package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.colo4j.ops.F;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.RankFailedException;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.hf.HfLanguageModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step whose loss or gradient norm is not finite stops the run at once, naming the step, before the optimizer
 * touches a weight; nothing is saved and the last good checkpoint stays {@code latest}.
 */
class DivergenceTest {
    /** The micro model, its loss scaled by {@code factor} at step {@code at}: NaN poisons the loss, 1e30 only the gradient norm. */
    record Poisoned(LanguageModel inner, long at, float factor) implements LanguageModel.LossWrapper {
        @Override
        public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
            Tensor loss = inner.loss(inputs, targets, step);
            return step == at ? F.scale(loss, factor) : loss;
        }
    }

    @Test
    void aNanLossStopsTheRunAtThatStepKeepingTheLastGoodCheckpoint(@TempDir Path dir) throws IOException {
        Path save = dir.resolve("save");
        Poisoned model = new Poisoned(MicroTraining.model(), 2, Float.NaN);
        Trainer trainer = MicroTraining.trainer(model, TrainerTest.config(6).withSaveEvery(2)).saveTo(save);
        TrainingDiverged e = catchThrowableOfType(TrainingDiverged.class, trainer::run);
        assertThat(e).isNotNull();
        assertThat(e.step()).isEqualTo(3);
        assertThat(e.getMessage()).startsWith("step 3/6: the loss is NaN;").contains("nothing was saved")
                .contains("the last good checkpoint is " + save.resolve("checkpoint-2")).contains("--resume " + save).contains("lower --lr");
        assertThat(trainer.step()).isEqualTo(2);
        assertThat(Files.readString(save.resolve(Trainer.LATEST)).strip()).isEqualTo("checkpoint-2");
        assertThat(save.resolve("checkpoint-3")).doesNotExist();
        assertThat(save.resolve("checkpoint-4")).doesNotExist();
        // the weights are those of checkpoint-2: step 3 touched none
        LanguageModel saved = MicroTraining.model();
        saved.load(save.resolve("checkpoint-2"));
        Map<String, float[]> expected = MicroTraining.weights(saved);
        MicroTraining.weights(model).forEach((name, w) -> assertThat(w).as(name).containsExactly(expected.get(name)));
    }

    /** With data parallelism the replica whose loss went bad is named; every rank stops at the same step. */
    @Test
    void aNanLossOnOneDpReplicaNamesIt() {
        Throwable failure = catchThrowable(() -> ThreadWorld.call(2, comm -> {
            Gpt2Model m;
            DistContext context;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(1, 2), comm, "cpu")) {
                m = new Gpt2Model(TrainerTest.MICRO, 5);
                context = ctx.context();
            }
            LanguageModel lm = new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, m);
            LanguageModel model = context.rank().dpRank() == 1 ? new Poisoned(lm, 1, Float.NaN) : lm;
            return MicroTraining.trainer(model, TrainerTest.config(3)).distributed(context).run();
        }));
        assertThat(failure).isInstanceOf(RankFailedException.class).cause().isInstanceOf(TrainingDiverged.class)
                .hasMessageStartingWith("step 2/3: the loss is NaN on dp replica 1 of 2;");
    }

    @Test
    void anInfiniteGradientNormStopsTheRunBeforeTheOptimizerStep() {
        Poisoned model = new Poisoned(MicroTraining.model(), 0, 1e30f);
        Map<String, float[]> before = MicroTraining.weights(model);
        Trainer trainer = MicroTraining.trainer(model, TrainerTest.config(3));
        TrainingDiverged e = catchThrowableOfType(TrainingDiverged.class, trainer::run);
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).startsWith("step 1/3: the gradient norm is Infinity;").contains("nothing is saved (no --save)")
                .contains("--clip");
        MicroTraining.weights(model).forEach((name, w) -> assertThat(w).as(name).containsExactly(before.get(name)));
        assertThat(trainer.step()).isZero();
    }
}

package io.colo4j.tests;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.train.LanguageModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** One training step of a zoo family on one rank, for tests that compare two ways of running it bit for bit. */
final class FamilyStep {
    static final int BATCH = 2;
    static final int SEQ = 32;

    private FamilyStep() {}

    /** What one rank computed in one step: the loss, every parameter's gradient, the step's peak of step memory. */
    record Result(float loss, Map<String, float[]> grads, long activationPeak) {}

    /** Every family serial, at tp 2, and at tp 2 with sequence parallelism: (family, tp, sequence parallel). */
    static Stream<Arguments> familiesAndTp() {
        return ModelZoo.names().stream().flatMap(f -> Stream.of(Arguments.of(f, 1, false), Arguments.of(f, 2, false), Arguments.of(f, 2, true)));
    }

    /** What a test runs on each rank's model: its steps on the fixed batch. */
    interface OnRank<T> {
        T run(Module model, LanguageModel lm, IntTensor x, IntTensor y);
    }

    /**
     * Builds {@code family}'s default config with dropout 0.1 on each of {@code tp} in-JVM ranks (training mode) and
     * runs {@code steps} there on {@link #batch}; each rank's result.
     */
    static <T> List<T> onEveryRank(String family, int tp, boolean sequenceParallel, OnRank<T> steps) {
        ModelZoo.Family f = ModelZoo.family(family).withSequenceParallel(sequenceParallel);
        HfFamilyOps hf = f.requireHf();
        HfConfig cfg = hf.withDropout(hf.config(f.defaultConfig()), 0.1f);
        IntTensor[] batch = batch(cfg);
        return ThreadWorld.call(tp, comm -> {
            Module model = f.buildOnRank(cfg, 7, comm);
            model.train(true);
            T result = steps.run(model, hf.languageModel(model), batch[0], batch[1]);
            MemoryScope.releaseThreadCache();
            return result;
        });
    }

    /** A fixed batch of ids and targets, [BATCH, SEQ] each, in {@code cfg}'s vocabulary. */
    static IntTensor[] batch(HfConfig cfg) {
        int[] ids = new int[BATCH * SEQ];
        int[] targets = new int[BATCH * SEQ];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) ((i * 2654435761L) % cfg.vocabSize());
            targets[i] = (int) ((i * 40503L + 17) % cfg.vocabSize());
        }
        return new IntTensor[] {IntTensor.of(ids, BATCH, SEQ), IntTensor.of(targets, BATCH, SEQ)};
    }

    /** Zeroes the gradients, then runs the loss under {@code mode} and {@code backward} of it in a step scope. */
    static Result run(Module model, LanguageModel lm, IntTensor x, IntTensor y, Recompute mode, Consumer<Tensor> backward) {
        for (Parameter p : model.parameters()) {
            p.zeroGrad();
        }
        MemoryStats.resetStepPeak();
        float loss;
        try (MemoryScope scope = MemoryScope.open(); var m = Recompute.use(mode)) {
            Tensor l = lm.loss(x, y, 3);
            backward.accept(l);
            loss = l.item();
        }
        long peak = MemoryStats.stepPeakBytes();
        Map<String, float[]> grads = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            if (p.grad() != null) {
                grads.put(name, p.grad().toFloatArray());
            }
        });
        return new Result(loss, grads, peak);
    }
}

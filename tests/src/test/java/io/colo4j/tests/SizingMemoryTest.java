package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.optim.AdamW;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.memory.MemoryPerRank;
import io.colo4j.zoo.sizing.SizingPlan;
import io.colo4j.zoo.train.LanguageModel;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The memory the sizing plan predicts per rank against what a built, sharded model holds on every rank:
 * its local parameter shards (sharded and replicated), the gradients one step leaves, and AdamW's moments; and
 * against the run's report of the same model ({@link MemoryPerRank#held}), taken from the shards a rank holds.
 */
class SizingMemoryTest {
    /** What one rank holds, in bytes. */
    record Held(long sharded, long replicated, long gradients, long moments, MemoryPerRank report) {}

    @ParameterizedTest(name = "{0} {1} tp={2} dp={3}")
    @CsvSource({"gpt2, tiny, 2, 1", "bert, tiny, 2, 2", "t5, tiny, 2, 1", "llama, tiny, 2, 1"})
    void predictedMemoryEqualsWhatEveryRankHolds(String model, String config, int tp, int dp) {
        ModelZoo.Family family = ModelZoo.family(model);
        MemoryPerRank predicted = SizingPlan.of(new SizingPlan.Request(family, config, tp, dp, 0, 1, 8)).memory();
        List<Held> ranks = ThreadWorld.call(tp * dp, comm -> {
            Module m;
            InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu");
            try (ctx) {
                m = family.build(config, 7);
            }
            family.rules().apply(m);
            LanguageModel lm = family.languageModel(m);
            int[] ids = new int[2 * 8];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 31 + 5) % lm.vocabSize();
            }
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor loss = lm.loss(IntTensor.of(ids, 2, 8), IntTensor.of(ids, 2, 8), 0);
                loss.backward();
            }
            long sharded = 0;
            long replicated = 0;
            long gradients = 0;
            for (Parameter p : m.parameters()) {
                long bytes = p.localNumel() * Float.BYTES;
                if (((io.colo4j.tensor.colo.ColoParameter) p).isReplicated()) {
                    replicated += bytes;
                } else {
                    sharded += bytes;
                }
                gradients += p.grad() == null ? 0 : p.grad().numel() * Float.BYTES;
            }
            long moments = new AdamW(m.namedParameters(), AdamW.Options.defaults(1e-3)).stateTensors().values().stream()
                    .mapToLong(t -> t.numel() * Float.BYTES).sum();
            return new Held(sharded, replicated, gradients, moments, MemoryPerRank.held(m.parameters(), tp, dp, 0));
        });
        for (Held held : ranks) {
            assertThat(held).usingRecursiveComparison().ignoringFields("report").isEqualTo(new Held(predicted.shardedParameterBytes(),
                    predicted.replicatedParameterBytes(), predicted.gradientBytes(), predicted.optimizerBytes(), null));
            // the run's report (Trainer.memory) is the same model taken from the materialised shards: the same figures,
            // except that it counts a gradient for every parameter
            assertThat(held.report()).usingRecursiveComparison().ignoringFields("gradientBytes").isEqualTo(predicted);
            assertThat(held.report().gradientBytes()).isEqualTo(held.report().parameterBytes());
        }
    }
}

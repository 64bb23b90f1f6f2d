package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.bert.BertCheckpoint;
import io.colo4j.zoo.bert.BertForMaskedLM;
import io.colo4j.zoo.t5.T5Checkpoint;
import io.colo4j.zoo.t5.T5ForConditionalGeneration;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HF model folders load into tensor-parallel T5 and BERT models (rules applied first, each rank reading
 * its shard; T5's fused cross-attention key_value assembled from HF's k and v and then split per k and v
 * block) and give the serial model's loss.
 */
class T5ShardedCheckpointTest {
    @TempDir
    Path dir;

    static List<Float> lossesOnRanks(int tp, String family, Supplier<Module> build, Path folder, IntTensor window) {
        ModelZoo.Family f = ModelZoo.family(family);
        return ThreadWorld.call(tp, comm -> {
            Module m;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                m = build.get();
            }
            f.rules().apply(m);
            f.languageModel(m).load(folder);
            return f.languageModel(m).loss(window, window, 2).item();
        });
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void aSavedT5FolderLoadsIntoShardedRanks(int tp) throws Exception {
        T5ForConditionalGeneration serial = new T5ForConditionalGeneration(T5RulesEquivalenceTest.micro(), 21L);
        T5Checkpoint.FORMAT.save(serial, dir.resolve("t5"));
        IntTensor window = Gpt2RulesEquivalenceTest.ids(37, 2, 10, 0);
        float want = ModelZoo.family("t5").languageModel(serial).loss(window, window, 2).item();
        for (float got : lossesOnRanks(tp, "t5", () -> new T5ForConditionalGeneration(T5RulesEquivalenceTest.micro(), 99L),
                dir.resolve("t5"), window)) {
            assertThat((double) got).isCloseTo(want, within(1e-5 * Math.abs(want)));
        }
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void aSavedBertFolderLoadsIntoShardedRanks(int tp) throws Exception {
        BertForMaskedLM serial = new BertForMaskedLM(BertRulesEquivalenceTest.micro(), 21L);
        BertCheckpoint.FORMAT.save(serial, dir.resolve("bert"));
        IntTensor window = Gpt2RulesEquivalenceTest.ids(37, 2, 10, 0);
        float want = ModelZoo.family("bert").languageModel(serial).loss(window, window, 2).item();
        for (float got : lossesOnRanks(tp, "bert", () -> new BertForMaskedLM(BertRulesEquivalenceTest.micro(), 99L),
                dir.resolve("bert"), window)) {
            assertThat((double) got).isCloseTo(want, within(1e-5 * Math.abs(want)));
        }
    }
}

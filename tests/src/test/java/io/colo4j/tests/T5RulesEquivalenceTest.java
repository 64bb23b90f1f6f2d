package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.t5.T5Config;
import io.colo4j.zoo.t5.T5ForConditionalGeneration;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped T5 rules, applied on ThreadWorld ranks, train a step to the serial model's loss,
 * gradients and updated parameters within 1e-5 relative: a micro T5 (a vocabulary of 37, padded at tp 2
 * and 4; an encoder padding mask; relative position buckets both ways; fused cross-attention key_value)
 * at tp = 1, 2, 4, and the zoo's tiny T5 through its trainer adapter at tp = 2, 4.
 */
class T5RulesEquivalenceTest {
    static final double RTOL = 1e-5;

    /** What each class of T5 parameter gets at tp (for {@link RuleCoverageTest#EXPECTED}): Megatron's layout. */
    static final List<RuleCoverageTest.ParameterClass> EXPECTED_SPECS = List.of(
            BertRulesEquivalenceTest.cls("(encoder|decoder)\\.block\\.\\d+\\.layer\\.0\\.SelfAttention\\.[qkv]\\.weight"
                            + "|decoder\\.block\\.\\d+\\.layer\\.1\\.EncDecAttention\\.q\\.weight"
                            + "|(encoder|decoder)\\.block\\.\\d+\\.layer\\.[12]\\.DenseReluDense\\.wi\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, false)),
            BertRulesEquivalenceTest.cls("decoder\\.block\\.\\d+\\.layer\\.1\\.EncDecAttention\\.key_value\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp, 2), RuleCoverageTest.KEEP_SHARDED, false)),
            BertRulesEquivalenceTest.cls("(encoder|decoder)\\.block\\.\\d+\\.layer\\.0\\.SelfAttention\\.o\\.weight"
                            + "|decoder\\.block\\.\\d+\\.layer\\.1\\.EncDecAttention\\.o\\.weight"
                            + "|(encoder|decoder)\\.block\\.\\d+\\.layer\\.[12]\\.DenseReluDense\\.wo\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(1, tp), RuleCoverageTest.GATHER, false)),
            BertRulesEquivalenceTest.cls("(encoder|decoder)\\.block\\.0\\.layer\\.0\\.SelfAttention\\.relative_attention_bias\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(1, tp), RuleCoverageTest.KEEP_SHARDED, false)),
            BertRulesEquivalenceTest.cls("shared\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, true)),
            BertRulesEquivalenceTest.cls("(encoder|decoder)\\.(block\\.\\d+\\.layer\\.[012]\\.layer_norm|final_layer_norm)\\.weight",
                    tp -> BertRulesEquivalenceTest.replicated()));

    /** 37 ids, d_model 16, 4 heads of 4, d_ff 32, 2 + 2 layers, 8 buckets up to distance 16, no dropout. */
    static T5Config micro() {
        return new T5Config(37, 16, 4, 32, 2, 2, 4, 8, 16, 0f, 1e-6f, 1f, 32, 0, 0);
    }

    static Tensor microLoss(Module module) {
        T5ForConditionalGeneration m = (T5ForConditionalGeneration) module;
        IntTensor in = Gpt2RulesEquivalenceTest.ids(37, 2, 9, 0);
        IntTensor mask = IntTensor.of(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, 2, 9);
        int[] labels = Gpt2RulesEquivalenceTest.ids(37, 2, 6, 3).data().clone();
        labels[5] = -100; // an ignored label, shifted into the decoder input as pad
        return m.loss(in, mask, IntTensor.of(labels, 2, 6));
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void microT5TrainsAStepLikeTheSerialModel(int tp) {
        Supplier<Module> build = () -> new T5ForConditionalGeneration(micro(), 42L);
        var serial = ShardedRun.serial(build, T5RulesEquivalenceTest::microLoss);
        List<ShardedRun.RankResult> ranks = ShardedRun.parallel(tp, build, ModelZoo.family("t5").rules(), T5RulesEquivalenceTest::microLoss);
        assertThat(ranks.get(0).plan().complete()).isTrue();
        if (tp > 1) {
            var values = ranks.get(0).values();
            assertThat(values.get("shared.weight").shape()).containsExactly(Math.ceilDiv(37, tp), 16);
            assertThat(values.get("decoder.block.0.layer.1.EncDecAttention.key_value.weight").shape()).containsExactly(32 / tp, 16);
            // each rank holds its heads' column of the relative position tables
            assertThat(values.get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").shape()).containsExactly(8, 4 / tp);
        }
        RuleChecks.assertEquivalent(serial, ranks, RTOL, name -> false, 1e-7);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void zooTinyT5TrainsAStepLikeTheSerialModel(int tp) {
        ModelZoo.Family family = ModelZoo.family("t5");
        assertThat(T5Config.tiny().numHeads() % tp).as("heads divide by tp").isZero();
        IntTensor window = Gpt2RulesEquivalenceTest.ids(256, 2, 12, 0);
        IntTensor targets = Gpt2RulesEquivalenceTest.ids(256, 2, 12, 1);
        Function<Module, Tensor> loss = m -> family.languageModel(m).loss(window, targets, 5);
        Supplier<Module> build = () -> family.build("tiny", 42L);
        var serial = ShardedRun.serial(build, loss);
        List<ShardedRun.RankResult> ranks = ShardedRun.parallel(tp, build, family.rules(), loss);
        assertThat(ranks.get(0).plan().complete()).isTrue();
        RuleChecks.assertEquivalent(serial, ranks, RTOL, name -> false, 1e-7);
    }
}

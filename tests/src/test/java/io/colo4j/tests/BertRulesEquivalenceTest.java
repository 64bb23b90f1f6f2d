package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.F;
import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.bert.BertConfig;
import io.colo4j.zoo.bert.BertForMaskedLM;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped BERT rules, applied on ThreadWorld ranks, train a step to the serial model's loss,
 * gradients and updated parameters within 1e-5 relative: a micro BERT exercising every parameter (MLM
 * head, pooler, token types, a padding mask, exact GELU, a vocabulary of 37 padded at tp 2 and 4) at
 * tp = 1, 2, 4, and the zoo's tiny BERT through its trainer adapter (the masked-LM loss) at tp = 2, 4.
 */
class BertRulesEquivalenceTest {
    static final double RTOL = 1e-5;

    /** What each class of BERT parameter gets at tp (for {@link RuleCoverageTest#EXPECTED}): Megatron's layout. */
    static final List<RuleCoverageTest.ParameterClass> EXPECTED_SPECS = List.of(
            cls("bert\\.encoder\\.layer\\.\\d+\\.(attention\\.self\\.(query|key|value)|intermediate\\.dense)\\.(weight|bias)",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, false)),
            cls("bert\\.encoder\\.layer\\.\\d+\\.(attention\\.output|output)\\.dense\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(1, tp), RuleCoverageTest.GATHER, false)),
            cls("bert\\.encoder\\.layer\\.\\d+\\.(attention\\.output|output)\\.dense\\.bias", tp -> replicated()),
            cls("bert\\.embeddings\\.word_embeddings\\.weight|cls\\.predictions\\.bias",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, true)),
            cls("bert\\.embeddings\\.(position|token_type)_embeddings\\.weight", tp -> replicated()),
            cls("(bert\\.pooler|cls\\.predictions\\.transform)\\.dense\\.(weight|bias)", tp -> replicated()),
            cls("(bert\\.embeddings|bert\\.encoder\\.layer\\.\\d+\\.(attention\\.output|output)|cls\\.predictions\\.transform)"
                    + "\\.LayerNorm\\.(weight|bias)", tp -> replicated()));

    static RuleCoverageTest.ParameterClass cls(String regex, java.util.function.IntFunction<RuleCoverageTest.Expected> expected) {
        return new RuleCoverageTest.ParameterClass(regex, expected);
    }

    static RuleCoverageTest.Expected replicated() {
        return new RuleCoverageTest.Expected(DistSpec.replicate(), null, false);
    }

    /** 37 ids, 16 wide, 4 heads, 2 layers, intermediate 32, exact GELU, no dropout; init 0.2 for sizeable gradients. */
    static BertConfig micro() {
        return new BertConfig(37, 16, 2, 4, 32, "gelu", 0f, 0f, 16, 2, 0.2f, 1e-12f, 0, 36, true);
    }

    static IntTensor ids(int vocab, int batch, int seq, int shift) {
        return Gpt2RulesEquivalenceTest.ids(vocab, batch, seq, shift);
    }

    /** The masked-LM loss plus the mean pooled output, so the pooler has a gradient too. */
    static Tensor microLoss(Module module) {
        BertForMaskedLM m = (BertForMaskedLM) module;
        int b = 2;
        int t = 7;
        IntTensor in = ids(37, b, t, 0);
        IntTensor types = IntTensor.of(new int[] {0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0}, b, t);
        IntTensor mask = IntTensor.of(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, b, t); // row 1 padded at the end
        int[] labels = new int[b * t];
        java.util.Arrays.fill(labels, -100);
        labels[1] = 5;
        labels[4] = 30;
        labels[6] = 0;
        labels[7 + 2] = 17;
        labels[7 + 3] = 36;
        Tensor h = m.bert().forward(in, types, mask, 0L);
        return F.add(F.crossEntropy(m.logits(h), IntTensor.of(labels, b, t)), F.mean(m.bert().pool(h)));
    }

    static boolean keyBias(String name) {
        return name.endsWith("attention.self.key.bias");
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void microBertTrainsAStepLikeTheSerialModel(int tp) {
        ShardingRules rules = ModelZoo.family("bert").rules();
        Supplier<Module> build = () -> new BertForMaskedLM(micro(), 42L);
        var serial = ShardedRun.serial(build, BertRulesEquivalenceTest::microLoss);
        List<ShardedRun.RankResult> ranks = ShardedRun.parallel(tp, build, rules, BertRulesEquivalenceTest::microLoss);
        assertThat(ranks.get(0).plan().complete()).isTrue();
        if (tp > 1) {
            // the vocabulary of 37 is padded to a multiple of tp, the MLM bias alike
            assertThat(ranks.get(0).values().get("bert.embeddings.word_embeddings.weight").shape()).containsExactly(Math.ceilDiv(37, tp), 16);
            assertThat(ranks.get(0).values().get("cls.predictions.bias").shape()).containsExactly(Math.ceilDiv(37, tp));
            assertThat(ranks.get(0).values().get("bert.encoder.layer.0.attention.self.query.weight").shape()).containsExactly(16 / tp, 16);
        }
        RuleChecks.assertEquivalent(serial, ranks, RTOL, BertRulesEquivalenceTest::keyBias, 1e-7);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void zooTinyBertTrainsAMaskedLmStepLikeTheSerialModel(int tp) {
        ModelZoo.Family family = ModelZoo.family("bert");
        BertConfig config = BertConfig.tiny();
        assertThat(config.numAttentionHeads() % tp).as("heads divide by tp").isZero();
        IntTensor window = ids(256, 2, 12, 0);
        IntTensor targets = ids(256, 2, 12, 1);
        // the pooler takes no part in the masked-LM loss: a zero-weighted term gives it a (zero) gradient to compare
        Function<Module, Tensor> loss = m -> F.add(family.languageModel(m).loss(window, targets, 3),
                F.scale(F.mean(((BertForMaskedLM) m).bert().pool(((BertForMaskedLM) m).hidden(window))), 0f));
        Supplier<Module> build = () -> family.build("tiny", 42L);
        var serial = ShardedRun.serial(build, loss);
        List<ShardedRun.RankResult> ranks = ShardedRun.parallel(tp, build, family.rules(), loss);
        assertThat(ranks.get(0).plan().complete()).isTrue();
        RuleChecks.assertEquivalent(serial, ranks, RTOL, BertRulesEquivalenceTest::keyBias, 1e-7);
    }
}

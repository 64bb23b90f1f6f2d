package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.llama.LlamaConfig;
import io.colo4j.zoo.llama.LlamaModel;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped Llama rules, applied on ThreadWorld ranks, train a step to the serial model's loss,
 * gradients and updated parameters (within 1e-5 of each tensor's scale) at tp = 1, 2, 4, with
 * grouped-query attention (8 query heads sharing 4 key/value heads: each rank repeats its own key/value
 * heads), rotary embeddings on head-split q/k, and the vocab-parallel embedding, LM head and loss. The
 * communication plan: per layer, the attention block and the MLP block each all-reduce once forward, and
 * nothing is ever gathered inside a layer.
 */
class LlamaRulesEquivalenceTest {
    static final double RTOL = 1e-5;

    /** The zoo's parameter classes for Llama, at a tp (RuleCoverageTest.EXPECTED). */
    static final List<RuleCoverageTest.ParameterClass> EXPECTED_SPECS = List.of(
            new RuleCoverageTest.ParameterClass("model\\.layers\\.\\d+\\.(self_attn\\.[qkv]_proj|mlp\\.(gate|up)_proj)\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, false)),
            new RuleCoverageTest.ParameterClass("model\\.layers\\.\\d+\\.(self_attn\\.o_proj|mlp\\.down_proj)\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(1, tp), RuleCoverageTest.GATHER, false)),
            new RuleCoverageTest.ParameterClass("model\\.embed_tokens\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.GATHER, true)),
            new RuleCoverageTest.ParameterClass("lm_head\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, false)),
            new RuleCoverageTest.ParameterClass("model\\.(layers\\.\\d+\\.(input_layernorm|post_attention_layernorm)|norm)\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.replicate(), null, false)));

    /** 8 heads of 4 sharing 4 key/value heads, hidden 32, intermediate 48, 2 layers, 16 positions. */
    static LlamaConfig small(int vocab) {
        return LlamaConfig.of(vocab, 16, 32, 48, 2, 8, 4).withRopeTheta(500.0);
    }

    static IntTensor ids(int vocab, int batch, int seq, int shift) {
        return Gpt2RulesEquivalenceTest.ids(vocab, batch, seq, shift);
    }

    static void assertTrainsLikeSerial(LlamaConfig config, int tp) {
        IntTensor in = ids(config.vocabSize(), 2, 8, 0);
        IntTensor target = ids(config.vocabSize(), 2, 8, 1);
        ShardingRules rules = ModelZoo.family("llama").rules();
        Supplier<Module> build = () -> new LlamaModel(config, 42L);
        Function<Module, Tensor> loss = m -> ((LlamaModel) m).loss(in, target);
        var serial = ShardedRun.serial(build, loss);
        var ranks = ShardedRun.parallel(tp, build, rules, loss);
        assertThat(ranks.get(0).plan().complete()).isTrue();
        assertThat(ranks.get(0).values().get("model.embed_tokens.weight").shape()[0]).isEqualTo(Math.ceilDiv(config.vocabSize(), tp));
        assertThat(ranks.get(0).values().get("model.layers.0.self_attn.k_proj.weight").shape()[0])
                .isEqualTo(config.numKeyValueHeads() * config.headDim() / tp);
        ShardedRun.assertEquivalent(serial, ranks, RTOL);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void groupedQueryLlamaTrainsAStepLikeTheSerialModel(int tp) {
        // lm_head is column-split, which never pads, so the vocabulary must divide by tp (52 = 4 x 13)
        LlamaConfig config = small(52);
        assertTrainsLikeSerial(config, tp);
    }

    @Test
    void zooTinyTrainsAStepLikeTheSerialModelAtTp4() {
        assertTrainsLikeSerial(LlamaConfig.tiny(), 4);
    }

    @Test
    void oneAllReducePerBlockForwardAndNothingGatheredInsideALayer() {
        for (int tp : new int[] {2, 4}) {
            LlamaConfig config = small(48);
            IntTensor in = ids(config.vocabSize(), 2, 8, 0);
            IntTensor target = ids(config.vocabSize(), 2, 8, 1);
            RuleChecks.Trace trace = RuleChecks.Trace.run(tp, () -> new LlamaModel(config, 42L),
                    ModelZoo.family("llama").rules(), m -> ((LlamaModel) m).loss(in, target));
            System.out.println("llama tp=" + tp + " " + trace.summary());
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                String layer = "model.layers." + l + ".";
                RuleChecks.Trace.Counts attn = trace.counts(layer + "self_attn");
                RuleChecks.Trace.Counts mlp = trace.counts(layer + "mlp");
                assertThat(attn.forward()).as("tp=%d layer %d attention forward all-reduces", tp, l).isEqualTo(1);
                assertThat(mlp.forward()).as("tp=%d layer %d MLP forward all-reduces", tp, l).isEqualTo(1);
                // separate q/k/v and gate/up projections each all-reduce their input's gradient: see RuleChecks.Trace
                assertThat(attn.backward()).as("tp=%d layer %d attention backward all-reduces", tp, l)
                        .isEqualTo(RuleChecks.Trace.backwardAllReduces(3));
                assertThat(mlp.backward()).as("tp=%d layer %d MLP backward all-reduces", tp, l)
                        .isEqualTo(RuleChecks.Trace.backwardAllReduces(2));
                trace.assertOnlyAllReducesUnder(layer);
            }
            assertThat(trace.fallbacks()).isEmpty();
        }
    }
}

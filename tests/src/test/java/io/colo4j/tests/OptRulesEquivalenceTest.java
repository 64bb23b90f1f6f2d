package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.opt.OptConfig;
import io.colo4j.zoo.opt.OptModel;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped OPT rules, applied on ThreadWorld ranks, train a step to the serial model's loss, gradients
 * and updated parameters (within 1e-5 of each tensor's scale) at tp = 1, 2, 4: pre-LN with a vocabulary
 * that tp = 4 must pad, and opt-350m's post-LN layout with project_in/out. The communication plan: per
 * layer, the attention block and the MLP block each all-reduce once forward, and nothing is ever gathered
 * inside a layer.
 */
class OptRulesEquivalenceTest {
    static final double RTOL = 1e-5;

    /** The zoo's parameter classes for OPT, at a tp (RuleCoverageTest.EXPECTED). */
    static final List<RuleCoverageTest.ParameterClass> EXPECTED_SPECS = List.of(
            new RuleCoverageTest.ParameterClass("model\\.decoder\\.layers\\.\\d+\\.(self_attn\\.[qkv]_proj|fc1)\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, false)),
            new RuleCoverageTest.ParameterClass("model\\.decoder\\.layers\\.\\d+\\.(self_attn\\.[qkv]_proj|fc1)\\.bias",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, false)),
            new RuleCoverageTest.ParameterClass("model\\.decoder\\.layers\\.\\d+\\.(self_attn\\.out_proj|fc2)\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(1, tp), RuleCoverageTest.GATHER, false)),
            new RuleCoverageTest.ParameterClass("model\\.decoder\\.layers\\.\\d+\\.(self_attn\\.out_proj|fc2)\\.bias",
                    tp -> new RuleCoverageTest.Expected(DistSpec.replicate(), null, false)),
            new RuleCoverageTest.ParameterClass("model\\.decoder\\.embed_tokens\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.shard(0, tp), RuleCoverageTest.KEEP_SHARDED, true)),
            new RuleCoverageTest.ParameterClass("model\\.decoder\\.embed_positions\\.weight",
                    tp -> new RuleCoverageTest.Expected(DistSpec.replicate(), null, false)),
            new RuleCoverageTest.ParameterClass("model\\.decoder\\.(layers\\.\\d+\\.(self_attn_layer_norm|final_layer_norm)|final_layer_norm)\\.(weight|bias)",
                    tp -> new RuleCoverageTest.Expected(DistSpec.replicate(), null, false)));

    /** Pre-LN, 4 heads of 8, vocabulary 50 (padded to 52 at tp = 4), 16 positions, no dropout. */
    static OptConfig small() {
        return OptConfig.of(50, 16, 32, 2, 4, 64).withDropout(0f);
    }

    static IntTensor ids(int vocab, int batch, int seq, int shift) {
        return Gpt2RulesEquivalenceTest.ids(vocab, batch, seq, shift);
    }

    static void assertTrainsLikeSerial(OptConfig config, int tp) {
        IntTensor in = ids(config.vocabSize(), 2, 8, 0);
        IntTensor target = ids(config.vocabSize(), 2, 8, 1);
        ShardingRules rules = ModelZoo.family("opt").rules();
        Supplier<Module> build = () -> new OptModel(config, 42L);
        Function<Module, Tensor> loss = m -> ((OptModel) m).loss(in, target);
        var serial = ShardedRun.serial(build, loss);
        var ranks = ShardedRun.parallel(tp, build, rules, loss);
        assertThat(ranks.get(0).plan().complete()).isTrue();
        assertThat(ranks.get(0).values().get("model.decoder.embed_tokens.weight").shape()[0])
                .isEqualTo(Math.ceilDiv(config.vocabSize(), tp));
        RuleChecks.assertEquivalent(serial, ranks, RTOL, name -> name.endsWith("self_attn.k_proj.bias"), 0);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void preLayerNormOptTrainsAStepLikeTheSerialModel(int tp) {
        assertTrainsLikeSerial(small(), tp);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void postLayerNormProjectedOptTrainsAStepLikeTheSerialModel(int tp) {
        assertTrainsLikeSerial(small().withPostLayerNorm(16), tp);
    }

    @Test
    void zooTinyTrainsAStepLikeTheSerialModelAtTp4() {
        assertTrainsLikeSerial(OptConfig.tiny(), 4);
    }

    @Test
    void oneAllReducePerBlockForwardAndNothingGatheredInsideALayer() {
        for (int tp : new int[] {2, 4}) {
            OptConfig config = small();
            IntTensor in = ids(config.vocabSize(), 2, 8, 0);
            IntTensor target = ids(config.vocabSize(), 2, 8, 1);
            RuleChecks.Trace trace = RuleChecks.Trace.run(tp, () -> new OptModel(config, 42L), ModelZoo.family("opt").rules(),
                    m -> ((OptModel) m).loss(in, target));
            System.out.println("opt tp=" + tp + " " + trace.summary());
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                String layer = "model.decoder.layers." + l + ".";
                RuleChecks.Trace.Counts attn = trace.counts(layer + "self_attn");
                RuleChecks.Trace.Counts mlp = trace.counts(layer + "fc1", layer + "fc2");
                assertThat(attn.forward()).as("tp=%d layer %d attention forward all-reduces", tp, l).isEqualTo(1);
                assertThat(mlp.forward()).as("tp=%d layer %d MLP forward all-reduces", tp, l).isEqualTo(1);
                assertThat(mlp.backward()).as("tp=%d layer %d MLP backward all-reduces", tp, l).isEqualTo(1);
                // q_proj, k_proj and v_proj each all-reduce their input's gradient: see RuleChecks.Trace
                assertThat(attn.backward()).as("tp=%d layer %d attention backward all-reduces", tp, l)
                        .isEqualTo(RuleChecks.Trace.backwardAllReduces(3));
                trace.assertOnlyAllReducesUnder(layer);
            }
            assertThat(trace.fallbacks()).isEmpty();
        }
    }
}

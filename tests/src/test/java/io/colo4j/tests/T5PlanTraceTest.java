package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.t5.T5Config;
import io.colo4j.zoo.t5.T5ForConditionalGeneration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The communication plan of a T5 training step under the shipped rules, from the trace: every
 * self-attention, cross-attention and feed-forward block all-reduces once forward (its row layer o or
 * wo) and once backward (its input's gradient, shared by q, k and v, or by q alone in cross-attention),
 * plus one backward all-reduce in total for the encoder output that every cross-attention's key_value
 * reads, traced under decoder block 0 (see {@link RuleChecks.Trace}). Nothing but all-reduces inside
 * a block; the relative position tables (column-split on the heads) never communicate; no op falls
 * back to replicating its inputs.
 */
class T5PlanTraceTest {
    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void oneAllReducePerBlockForwardAndNothingGatheredInsideABlock(int tp) {
        T5Config config = T5RulesEquivalenceTest.micro();
        RuleChecks.Trace trace = RuleChecks.Trace.run(tp, () -> new T5ForConditionalGeneration(config, 42L),
                ModelZoo.family("t5").rules(), T5RulesEquivalenceTest::microLoss);
        assertThat(trace.fallbacks()).as("ops that fell back to replicate").isEmpty();
        for (String stack : new String[] {"encoder", "decoder"}) {
            boolean decoder = stack.equals("decoder");
            for (int b = 0; b < (decoder ? config.numDecoderLayers() : config.numLayers()); b++) {
                String block = stack + ".block." + b;
                trace.assertOnlyAllReducesUnder(block);
                RuleChecks.Trace.Counts self = trace.counts(block + ".layer.0");
                assertThat(self).as("tp=%d %s self-attention in %s", tp, block, trace.summary())
                        .isEqualTo(new RuleChecks.Trace.Counts(1, RuleChecks.Trace.backwardAllReduces(3)));
                if (decoder) {
                    RuleChecks.Trace.Counts cross = trace.counts(block + ".layer.1");
                    assertThat(cross).as("tp=%d %s cross-attention in %s", tp, block, trace.summary())
                            .isEqualTo(new RuleChecks.Trace.Counts(1, RuleChecks.Trace.crossAttentionBackwardAllReduces(b)));
                }
                RuleChecks.Trace.Counts ffn = trace.counts(block + ".layer." + (decoder ? 2 : 1));
                assertThat(ffn).as("tp=%d %s feed-forward in %s", tp, block, trace.summary())
                        .isEqualTo(new RuleChecks.Trace.Counts(1, 1));
                assertThat(trace.records()).filteredOn(r -> r.phase() == CommTrace.Phase.FORWARD && r.module().startsWith(block + "."))
                        .extracting(CommTrace.Record::module)
                        .containsExactlyElementsOf(decoder
                                ? java.util.List.of(block + ".layer.0.SelfAttention.o", block + ".layer.1.EncDecAttention.o",
                                        block + ".layer.2.DenseReluDense.wo")
                                : java.util.List.of(block + ".layer.0.SelfAttention.o", block + ".layer.1.DenseReluDense.wo"));
            }
            assertThat(trace.records()).as("the %s relative position table communicates", stack)
                    .noneMatch(r -> r.module().contains("relative_attention_bias"));
            assertThat(trace.counts(stack + ".final_layer_norm")).isEqualTo(new RuleChecks.Trace.Counts(0, 0));
        }
        // the encoder output's gradient, from every cross-attention's key_value, is reduced once in all
        assertThat(trace.records()).filteredOn(r -> r.module().endsWith("EncDecAttention.key_value"))
                .as("encoder-output all-reduces in %s", trace.summary())
                .hasSize(RuleChecks.Trace.COLUMN_PROJECTIONS_SHARE_ONE_BACKWARD_ALL_REDUCE ? 1 : config.numDecoderLayers())
                .allMatch(r -> r.phase() == CommTrace.Phase.BACKWARD);
    }
}

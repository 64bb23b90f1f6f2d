package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.bert.BertForMaskedLM;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The communication plan of a BERT training step under the shipped rules, from the trace: per encoder
 * layer one all-reduce forward in the attention block (attention.output.dense) and one in the MLP block
 * (output.dense); backward one for each (the input gradient of intermediate.dense, and that of query,
 * key and value, summed and reduced once: see {@link RuleChecks.Trace}); nothing but all-reduces
 * inside a layer, and no op falls back to replicating its inputs.
 */
class BertPlanTraceTest {
    static RuleChecks.Trace trace(int tp) {
        IntTensor in = Gpt2RulesEquivalenceTest.ids(37, 2, 7, 0);
        IntTensor labels = Gpt2RulesEquivalenceTest.ids(37, 2, 7, 2);
        IntTensor mask = IntTensor.of(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2, 7);
        return RuleChecks.Trace.run(tp, () -> new BertForMaskedLM(BertRulesEquivalenceTest.micro(), 42L), ModelZoo.family("bert").rules(),
                module -> {
                    BertForMaskedLM m = (BertForMaskedLM) module;
                    Tensor h = m.bert().forward(in, null, mask, 0L);
                    return F.add(F.crossEntropy(m.logits(h), labels), F.mean(m.bert().pool(h)));
                });
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void oneAllReducePerBlockForwardAndNothingGatheredInsideALayer(int tp) {
        RuleChecks.Trace trace = trace(tp);
        assertThat(trace.fallbacks()).as("ops that fell back to replicate").isEmpty();
        for (int l = 0; l < BertRulesEquivalenceTest.micro().numHiddenLayers(); l++) {
            String layer = "bert.encoder.layer." + l;
            trace.assertOnlyAllReducesUnder(layer);
            RuleChecks.Trace.Counts attention = trace.counts(layer + ".attention");
            RuleChecks.Trace.Counts mlp = trace.counts(layer + ".intermediate", layer + ".output");
            assertThat(attention.forward()).as("tp=%d %s attention forward in %s", tp, layer, trace.summary()).isEqualTo(1);
            assertThat(attention.backward()).as("tp=%d %s attention backward (query, key, value) in %s", tp, layer, trace.summary())
                    .isEqualTo(RuleChecks.Trace.backwardAllReduces(3));
            assertThat(mlp.forward()).as("tp=%d %s MLP forward in %s", tp, layer, trace.summary()).isEqualTo(1);
            assertThat(mlp.backward()).as("tp=%d %s MLP backward in %s", tp, layer, trace.summary()).isEqualTo(1);
            // the forward all-reduces are the row layers' partial sums
            assertThat(trace.records()).filteredOn(r -> r.phase() == CommTrace.Phase.FORWARD && r.module().startsWith(layer + "."))
                    .extracting(CommTrace.Record::module)
                    .containsExactly(layer + ".attention.output.dense", layer + ".output.dense");
        }
        // pooler, MLM transform and position tables are replicated: they never communicate
        assertThat(trace.counts("bert.pooler", "cls.predictions.transform", "bert.embeddings.position_embeddings",
                "bert.embeddings.token_type_embeddings")).isEqualTo(new RuleChecks.Trace.Counts(0, 0));
    }
}

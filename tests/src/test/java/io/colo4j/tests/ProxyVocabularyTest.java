package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.sizing.ProxyLayers;
import io.colo4j.zoo.sizing.StepTrace;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the sizing plan's small proxy vocabulary rests on: under the shipped rules the vocabulary-parallel
 * embedding, LM head and cross-entropy move [batch, seq, hidden] activations or [batch, seq] per-token
 * values, never anything vocabulary-sized, so a step traces the same collectives, byte for byte, at
 * any vocabulary size the rules accept. (Padded vocabularies: {@link SizingPlanMeasuredTest} compares
 * proxies with measured steps of BERT's 257 ids at tp 2 and of 100 ids at tp 3.)
 */
class ProxyVocabularyTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt2", "opt", "llama", "bert", "t5"})
    void collectivesDoNotDependOnTheVocabularySize(String model) {
        ModelZoo.Family family = ModelZoo.family(model);
        int tp = 2;
        List<CommTrace.Record> small = trace(family, tp, 64 * tp);
        List<CommTrace.Record> large = trace(family, tp, 1001 * tp);
        assertThat(small).isNotEmpty();
        assertThat(large).containsExactlyElementsOf(small);
    }

    private static List<CommTrace.Record> trace(ModelZoo.Family family, int tp, int vocab) {
        ModelZoo.ProxyShape shape = new ModelZoo.ProxyShape(ProxyLayers.MAX_LAYERS, vocab, 16);
        return StepTrace.run(family, () -> family.buildProxy(family.defaultConfig(), shape, 5), tp, 1,
                List.of(new StepTrace.Window(2, 8))).windows().get(0);
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.rules.ShardingRules;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped GPT-2 rules, applied on ThreadWorld ranks, train a step to the serial model's loss,
 * gradients and updated parameters: on the zoo GPT-2 (tiny: 4 heads, so tp = 2 and 4) and on a
 * layout-aware stand-in with the same parameter paths.
 */
class Gpt2RulesEquivalenceTest {
    static final double RTOL = 1e-5;

    static IntTensor ids(int vocab, int batch, int seq, int shift) {
        int[] v = new int[batch * seq];
        for (int r = 0; r < batch; r++) {
            for (int t = 0; t < seq; t++) {
                v[r * seq + t] = (r * 7 + (t + shift) * 5 + r * t * 3) % vocab;
            }
        }
        return IntTensor.of(v, batch, seq);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void zooGpt2TrainsAStepLikeTheSerialModel(int tp) {
        Gpt2Config config = Gpt2Config.tiny();
        assertThat(config.nHead() % tp).as("heads divide by tp").isZero();
        IntTensor in = ids(config.vocabSize(), 2, 8, 0);
        IntTensor target = ids(config.vocabSize(), 2, 8, 1);
        ShardingRules rules = ModelZoo.family("gpt2").rules();
        var serial = ShardedRun.serial(() -> new Gpt2Model(config, 42L), m -> ((Gpt2Model) m).loss(in, target));
        var ranks = ShardedRun.parallel(tp, () -> new Gpt2Model(config, 42L), rules, m -> ((Gpt2Model) m).loss(in, target));
        assertThat(ranks.get(0).plan().complete()).isTrue();
        assertThat(ranks.get(0).fallbacks()).as("ops gathered to replicate").isEmpty();
        ShardedRun.assertEquivalent(serial, ranks, RTOL);
    }

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {2, 4})
    void layoutAwareStandInTrainsAStepLikeTheSerialModel(int tp) {
        int vocab = 37;
        IntTensor in = ids(vocab, 4, 6, 0);
        IntTensor target = ids(vocab, 4, 6, 1);
        ShardingRules rules = ModelZoo.family("gpt2").rules();
        java.util.function.Supplier<Module> build = () -> new LayoutAwareGpt2(vocab, 8, 16, 2, 4);
        var serial = ShardedRun.serial(build, m -> ((LayoutAwareGpt2) m).loss(in, target));
        List<ShardedRun.RankResult> ranks = ShardedRun.parallel(tp, build, rules, m -> ((LayoutAwareGpt2) m).loss(in, target));
        assertThat(ranks.get(0).plan().complete()).isTrue();
        assertThat(ranks.get(0).fallbacks()).as("ops gathered to replicate").isEmpty();
        // vocab 37 is padded to a multiple of tp
        assertThat(ranks.get(0).values().get("transformer.wte.weight").shape()).containsExactly(Math.ceilDiv(vocab, tp), 16);
        ShardedRun.assertEquivalent(serial, ranks, RTOL);
    }
}

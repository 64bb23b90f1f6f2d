package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.examples.TinyLm;
import io.colo4j.examples.TrainTinyLm;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.rules.ShardingRules;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.nn.Module;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The examples module's user-written model (ops.nn layers, dropout on) and its rules file: a step at tp 1, 2, 4 is the serial one. */
class TinyLmEquivalenceTest {
    private static final int VOCAB = 24;
    private static final int D = 8;
    private static final ShardingRules RULES = TrainTinyLm.RULES;
    private static final Supplier<Module> BUILD = () -> new TinyLm(VOCAB, D);
    private static final IntTensor IN = Gpt2RulesEquivalenceTest.ids(VOCAB, 2, 6, 0);
    private static final IntTensor TARGET = Gpt2RulesEquivalenceTest.ids(VOCAB, 2, 6, 1);
    private static final Function<Module, io.colo4j.tensor.Tensor> LOSS = m -> ((TinyLm) m).loss(IN, TARGET, DropoutSeeds.step(7, 1));

    @ParameterizedTest(name = "tp={0}")
    @ValueSource(ints = {1, 2, 4})
    void aStepOnRanksIsTheSerialStep(int tp) {
        var serial = ShardedRun.serial(BUILD, LOSS);
        var ranks = ShardedRun.parallel(tp, BUILD, RULES, LOSS);
        assertThat(ranks.get(0).plan().complete()).isTrue();
        assertThat(ranks.get(0).fallbacks()).as("ops gathered to replicate").isEmpty();
        ShardedRun.assertEquivalent(serial, ranks, Gpt2RulesEquivalenceTest.RTOL);
    }

    /** 4 d = 32 hidden features do not split 3 ways: refused naming the parameter, before anything runs. */
    @Test
    void anOddTpIsRefusedNamingTheParameter() {
        assertThatThrownBy(() -> ShardedRun.parallel(3, BUILD, RULES, LOSS)).hasStackTraceContaining("up.weight").hasStackTraceContaining("tp=3");
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.F;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.bert.BertForMaskedLM;
import io.colo4j.zoo.sizing.StepTrace;
import io.colo4j.zoo.train.LanguageModel;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sequence parallelism on every zoo family's tiny config, by its bundled rules with {@code sequence_parallel} on: a
 * training step gives the serial loss, gradients and parameters at tp 2 and 4 with no op gathered to replicate, and in
 * every block the activations move by reduce-scatter and all-gather only (no all-reduce forward), as many bytes per
 * step as the all-reduce layout; what a block still all-reduces is the gradient of its replicated [hidden] norm gains
 * and biases, which each rank holds only for its own tokens.
 */
class SequenceParallelFamiliesTest {
    static final double RTOL = 1e-5;
    /** A block's modules: a layer index inside a stack. */
    static final Pattern BLOCK = Pattern.compile(".*\\.(h|layers|layer|block)\\.\\d+\\..*");

    static Stream<Arguments> familiesAndTp() {
        return ModelZoo.names().stream().flatMap(f -> Stream.of(Arguments.of(f, 2), Arguments.of(f, 4)));
    }

    @ParameterizedTest(name = "{0} tp={1}")
    @MethodSource("familiesAndTp")
    void trainsAStepLikeTheSerialModel(String name, int tp) {
        ModelZoo.Family family = ModelZoo.family(name).withSequenceParallel(true);
        Supplier<Module> build = () -> family.build("tiny", 42L);
        Module probe = build.get();
        LanguageModel lm = family.languageModel(probe);
        IntTensor in = Gpt2RulesEquivalenceTest.ids(lm.vocabSize(), 2, 8, 0);
        IntTensor target = Gpt2RulesEquivalenceTest.ids(lm.vocabSize(), 2, 8, 1);
        Function<Module, Tensor> lmLoss = m -> family.languageModel(m).loss(in, target, 0);
        // BERT's pooler takes no part in the masked-LM loss: a zero-weighted term gives it a (zero) gradient to compare
        Function<Module, Tensor> loss = name.equals("bert") ? m -> F.add(lmLoss.apply(m),
                F.scale(F.mean(((BertForMaskedLM) m).bert().pool(((BertForMaskedLM) m).hidden(in))), 0f)) : lmLoss;
        var serial = ShardedRun.serial(build, loss);
        var ranks = ShardedRun.parallel(tp, build, family.rules(), loss);
        assertThat(ranks.get(0).fallbacks()).as("ops gathered to replicate").isEmpty();
        // a key bias's gradient is zero in exact arithmetic (softmax cancels it): rounding noise, held to the largest gradient
        RuleChecks.assertEquivalent(serial, ranks, RTOL, p -> p.endsWith("k_proj.bias") || BertRulesEquivalenceTest.keyBias(p), 1e-7);
    }

    @ParameterizedTest(name = "{0} tp={1}")
    @MethodSource("familiesAndTp")
    void blocksMoveActivationsByReduceScatterAndAllGatherOnly(String name, int tp) {
        ModelZoo.Family plain = ModelZoo.family(name);
        ModelZoo.Family sp = plain.withSequenceParallel(true);
        List<StepTrace.Window> window = List.of(new StepTrace.Window(2, 8));
        List<CommTrace.Record> withSp = StepTrace.run(sp, () -> sp.build("tiny", 42L), tp, 1, window).windows().get(0);
        List<CommTrace.Record> without = StepTrace.run(plain, () -> plain.build("tiny", 42L), tp, 1, window).windows().get(0);
        int hidden = hidden(name);
        long gradientAllReduce = CollectiveKind.ALL_REDUCE.volume(tp, hidden * 4L, hidden * 4L).sendBytesPerRank();
        List<CommTrace.Record> blocks = withSp.stream().filter(r -> BLOCK.matcher(r.module()).matches()).toList();
        assertThat(blocks).as("%s blocks", name).isNotEmpty();
        assertThat(blocks).filteredOn(r -> r.collective() == CollectiveKind.ALL_REDUCE).allSatisfy(r -> {
            assertThat(r.phase()).as("%s", r).isEqualTo(CommTrace.Phase.BACKWARD);
            assertThat(r.bytes()).as("%s: a [hidden] parameter's gradient", r).isEqualTo(gradientAllReduce);
        });
        long reduceScatters = blocks.stream().filter(r -> r.phase() == CommTrace.Phase.FORWARD
                && r.collective() == CollectiveKind.REDUCE_SCATTER).count();
        long rowOutputs = without.stream().filter(r -> BLOCK.matcher(r.module()).matches() && r.phase() == CommTrace.Phase.FORWARD
                && r.collective() == CollectiveKind.ALL_REDUCE).count();
        assertThat(reduceScatters).as("%s: a reduce-scatter where each row layer all-reduced", name).isEqualTo(rowOutputs).isPositive();
        assertThat(activationBytes(blocks, gradientAllReduce)).as("%s blocks' bytes", name)
                .isEqualTo(activationBytes(without.stream().filter(r -> BLOCK.matcher(r.module()).matches()).toList(), -1));
    }

    private static long activationBytes(List<CommTrace.Record> records, long gradientAllReduce) {
        return records.stream().filter(r -> !(r.collective() == CollectiveKind.ALL_REDUCE && r.bytes() == gradientAllReduce))
                .mapToLong(CommTrace.Record::bytes).sum();
    }

    /** The family's tiny hidden size: the width of its norms' gains. */
    private static int hidden(String name) {
        Module m = ModelZoo.family(name).buildLazily("tiny");
        return m.namedParameters().entrySet().stream().filter(e -> e.getKey().matches(".*(ln_|norm|LayerNorm|layer_norm).*weight"))
                .findFirst().orElseThrow().getValue().fullShape()[0];
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.F;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.SequenceParallelGrads;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.bert.BertForMaskedLM;
import io.colo4j.zoo.sizing.StepTrace;
import io.colo4j.zoo.train.LanguageModel;
import java.util.List;
import java.util.Map;
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
 * every block the activations move by reduce-scatter and all-gather only (no all-reduce at all), as many bytes per
 * step as the all-reduce layout; the gradients of the replicated norm gains and biases, which each rank holds only for
 * its own tokens, are summed in one all-reduce after backward.
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
        StepTrace.Result spRun = StepTrace.run(sp, () -> sp.build("tiny", 42L), tp, 1, window);
        StepTrace.Result plainRun = StepTrace.run(plain, () -> plain.build("tiny", 42L), tp, 1, window);
        List<CommTrace.Record> withSp = spRun.windows().get(0);
        List<CommTrace.Record> without = plainRun.windows().get(0);
        List<CommTrace.Record> blocks = withSp.stream().filter(r -> BLOCK.matcher(r.module()).matches()).toList();
        assertThat(blocks).as("%s blocks", name).isNotEmpty();
        assertThat(blocks).as("%s: no all-reduce inside a block", name).noneMatch(r -> r.collective() == CollectiveKind.ALL_REDUCE);
        long reduceScatters = blocks.stream().filter(r -> r.phase() == CommTrace.Phase.FORWARD
                && r.collective() == CollectiveKind.REDUCE_SCATTER).count();
        long rowOutputs = without.stream().filter(r -> BLOCK.matcher(r.module()).matches() && r.phase() == CommTrace.Phase.FORWARD
                && r.collective() == CollectiveKind.ALL_REDUCE).count();
        assertThat(reduceScatters).as("%s: a reduce-scatter where each row layer all-reduced", name).isEqualTo(rowOutputs).isPositive();
        assertThat(bytes(blocks)).as("%s blocks' bytes", name)
                .isEqualTo(bytes(without.stream().filter(r -> BLOCK.matcher(r.module()).matches()).toList()));

        // the gradients each rank holds for its own tokens only (norm gains and biases, row biases): one all-reduce of all
        // their floats after backward, outside every module; none without sequence parallelism
        Map<String, Parameter> params = sp.buildLazily("tiny").namedParameters();
        assertThat(spRun.gradSummedAfterBackward()).as("%s: parameters summed after backward", name).isNotEmpty()
                .allSatisfy(p -> assertThat(params.get(p).fullShape()).as(p).contains(hidden(name)));
        long summedBytes = spRun.gradSummedAfterBackward().stream().mapToLong(p -> Shapes.numel(params.get(p).fullShape()) * Float.BYTES).sum();
        CommTrace.Record summed = new CommTrace.Record("", SequenceParallelGrads.OP, CollectiveKind.ALL_REDUCE,
                CollectiveKind.ALL_REDUCE.volume(tp, summedBytes, summedBytes).sendBytesPerRank(), CommTrace.Phase.BACKWARD);
        assertThat(withSp).filteredOn(r -> r.op().equals(SequenceParallelGrads.OP)).containsExactly(summed);
        assertThat(withSp.indexOf(summed)).as("%s: after every block's backward", name)
                .isGreaterThan(withSp.lastIndexOf(blocks.getLast()));
        assertThat(plainRun.gradSummedAfterBackward()).as("%s without sequence parallelism", name).isEmpty();
        assertThat(without).noneMatch(r -> r.op().equals(SequenceParallelGrads.OP));
    }

    private static long bytes(List<CommTrace.Record> records) {
        return records.stream().mapToLong(CommTrace.Record::bytes).sum();
    }

    /** The family's tiny hidden size: the width of its norms' gains. */
    private static int hidden(String name) {
        Module m = ModelZoo.family(name).buildLazily("tiny");
        return m.namedParameters().entrySet().stream().filter(e -> e.getKey().matches(".*(ln_|norm|LayerNorm|layer_norm).*weight"))
                .findFirst().orElseThrow().getValue().fullShape()[0];
    }
}

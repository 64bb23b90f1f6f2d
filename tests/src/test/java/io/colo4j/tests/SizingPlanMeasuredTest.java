package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Checkpoint;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.hf.HfLanguageModel;
import io.colo4j.zoo.sizing.CommPerStep;
import io.colo4j.zoo.sizing.SizingPlan;
import io.colo4j.zoo.sizing.StepTrace;
import io.colo4j.zoo.train.LanguageModel;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sizing plan, built from a 3-layer proxy with a small vocabulary, against a measured step of the
 * full model at the same batch and seq: every collective of the measured step (module with its layer
 * index, op, kind, bytes, phase, the dp gradient sync per parameter) is in the plan and nothing else.
 */
class SizingPlanMeasuredTest {
    static Stream<Arguments> runs() {
        return Stream.of(
                // 4 layers: the proxy's first, middle and last layer stand for all of them
                Arguments.of("gpt2", "mini", 2, 2, 2, 16),
                // tp 4: all-reduce volumes of 3/2 the tensor; 30 tokens, not a multiple of tp
                Arguments.of("gpt2", "mini", 4, 1, 3, 10),
                Arguments.of("opt", "tiny", 2, 2, 2, 16),
                Arguments.of("llama", "tiny", 2, 2, 2, 16),
                // vocabulary 257: padded at tp 2; the pooler gets no gradient, so the dp sync skips it
                Arguments.of("bert", "tiny", 2, 2, 2, 16),
                // encoder and decoder stacks; decoder block 0 also reduces the encoder output's gradient
                Arguments.of("t5", "tiny", 2, 2, 2, 16));
    }

    @ParameterizedTest(name = "{0} {1} tp={2} dp={3} {4}x{5}")
    @MethodSource("runs")
    void planEqualsTheMeasuredStepCollectiveByCollectiveAndLayerByLayer(String model, String config, int tp, int dp, int batch, int seq) {
        assertPlanMatchesMeasured(ModelZoo.family(model), config, tp, dp, batch, seq);
    }

    /** GPT-2 with 3 heads at tp = 3 and dp = 3: ring volumes of 4/3 the tensor round up, per collective. */
    @Test
    void planEqualsTheMeasuredStepWhereRingVolumesRound() {
        Gpt2Config config = Gpt2Config.of(100, 32, 48, 4, 3).withDropout(0f);
        ModelZoo.Family gpt2 = ModelZoo.family("gpt2");
        ModelZoo.Family threeHeads = new ModelZoo.Family("gpt2-3-heads", "GPT-2, 48 wide, 3 heads", List.of("3-heads"), "3-heads",
                (name, seed) -> new Gpt2Model(config, seed),
                (name, shape, seed) -> new Gpt2Model(config.withLayers(shape.layers(config.nLayer())).withVocabSize(shape.vocabSize())
                        .withPositions(shape.positions()), seed),
                gpt2.rulesResource(), gpt2.adapter());
        assertPlanMatchesMeasured(threeHeads, "3-heads", 3, 3, 1, 5);
    }

    /**
     * Sequence parallelism's fixed-size gradient all-reduce and the position table's gather are sized exactly too; the
     * all-reduce sums the norms' and biases' gradients of every layer at once, so a model with more layers than the proxy
     * (GPT-2 mini: 4) sends more than the proxy did.
     */
    @ParameterizedTest(name = "{0} {1} tp={2}")
    @CsvSource({"gpt2, tiny, 2", "gpt2, mini, 4", "opt, tiny, 4", "llama, tiny, 2", "bert, tiny, 2", "t5, tiny, 2"})
    void planEqualsTheMeasuredStepUnderSequenceParallelism(String model, String config, int tp) {
        assertPlanMatchesMeasured(ModelZoo.family(model).withSequenceParallel(true), config, tp, 1, 2, 24);
    }

    private static void assertPlanMatchesMeasured(ModelZoo.Family family, String config, int tp, int dp, int batch, int seq) {
        SizingPlan plan = SizingPlan.of(new SizingPlan.Request(family, config, tp, dp, 0, batch, seq));
        assertThat(plan.communication().complete()).as("every collective grows as batch x seq").isTrue();
        List<CommTrace.Record> measured = StepTrace.run(family, () -> family.build(config, 1234), tp, dp,
                List.of(new StepTrace.Window(batch, seq))).windows().get(0);
        assertThat(plan.communication().expand()).containsExactlyInAnyOrderElementsOf(measured);
        long measuredBytes = measured.stream().mapToLong(CommTrace.Record::bytes).sum();
        assertThat(plan.communication().total()).isEqualTo(new CommPerStep.Tally(measured.size(), java.util.OptionalLong.of(measuredBytes)));
    }

    /**
     * A family whose step also issues a collective of seq x seq floats (as gathering attention scores
     * would): the plan must say it does not grow as batch x seq and give no bytes for it or the totals.
     */
    @Test
    void aCollectiveOverSeqSquaredIsReportedNotExtrapolated() {
        ModelZoo.Family gpt2 = ModelZoo.family("gpt2");
        ModelZoo.Family quadratic = new ModelZoo.Family("gpt2-quadratic", "GPT-2 tiny plus a seq x seq collective", List.of("tiny"),
                "tiny", gpt2.builder(), gpt2.proxyBuilder(), gpt2.rulesResource(),
                module -> new SeqSquaredCollective(new HfLanguageModel<>(Gpt2Checkpoint.FORMAT, (Gpt2Model) module)));
        SizingPlan plan = SizingPlan.of(new SizingPlan.Request(quadratic, "tiny", 2, 2, 0, 1, 64));
        CommPerStep comm = plan.communication();
        assertThat(comm.complete()).isFalse();
        assertThat(comm.notLinear()).singleElement().satisfies(s -> {
            assertThat(s.record().op()).isEqualTo("scores");
            assertThat(s.measured()).containsExactly(4L * 8 * 8, 4L * 8 * 8, 4L * 16 * 16);
        });
        assertThat(comm.rows()).filteredOn(r -> r.op().equals("scores")).singleElement()
                .satisfies(r -> assertThat(r.bytes()).isEmpty());
        assertThat(comm.total().bytes()).isEmpty();
        // the collectives that do grow as batch x seq keep their numbers
        assertThat(comm.rows()).filteredOn(r -> !r.op().equals("scores")).allSatisfy(r -> assertThat(r.bytes()).isPresent());
    }

    /** GPT-2's loss plus a traced (not performed) all-gather of seq x seq floats. */
    private record SeqSquaredCollective(LanguageModel inner) implements LanguageModel {
        @Override
        public Module module() {
            return inner.module();
        }

        @Override
        public int vocabSize() {
            return inner.vocabSize();
        }

        @Override
        public int maxSequenceLength() {
            return inner.maxSequenceLength();
        }

        @Override
        public Tensor loss(IntTensor inputs, IntTensor targets, long step) {
            int seq = inputs.shape()[1];
            ColoParameter any = (ColoParameter) inner.module().parameters().get(0);
            try (io.colo4j.tensor.colo.OpScope ignored = io.colo4j.tensor.colo.OpScope.enter("scores", "")) {
                any.context().traceCollective(CollectiveKind.ALL_GATHER, 4L * seq * seq, CommTrace.Phase.FORWARD);
            }
            return inner.loss(inputs, targets, step);
        }

        @Override
        public void save(Path dir) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void load(Path dir) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String configJson() {
            return inner.configJson();
        }
    }
}

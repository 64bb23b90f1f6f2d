package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.zoo.ModelZoo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sequence parallelism with selective recompute keeps each column layer's sequence shard and gathers it again in
 * backward (Megatron), for every zoo family at tp 2 and 4 with dropout on: the loss and every gradient are the bits of
 * the same step without recompute, the forward's collectives and the backward's reduce-scatters are unchanged, and
 * each block's backward has one all-gather more per column input the block makes from its own norm (the same module,
 * op and bytes as its forward gather): two per pre-norm block (attention, MLP), three in a T5 decoder block (its
 * cross-attention's queries too; the encoder output its keys and values read, made outside, stays gathered), one in
 * a BERT layer (post-norm: its attention reads the layer's input, made by the layer before).
 */
class SequenceParallelRegatherTest {
    /** A block: the outermost layer index (T5's sub-layers are inside it). */
    private static final Pattern BLOCK = Pattern.compile("(.*?\\.(h|layers|layer|block)\\.\\d+)\\..*");

    static Stream<Arguments> familiesAndTp() {
        return ModelZoo.names().stream().flatMap(f -> Stream.of(Arguments.of(f, 2), Arguments.of(f, 4)));
    }

    private record Step(FamilyStep.Result result, List<CommTrace.Record> trace) {}

    @ParameterizedTest(name = "{0} tp {1}")
    @MethodSource("familiesAndTp")
    void selectiveRecomputeGathersTheColumnInputsAgainWithTheSameBits(String family, int tp) {
        List<Map<Recompute, Step>> ranks = FamilyStep.onEveryRank(family, tp, true, (model, lm, x, y) -> {
            CommTrace trace = ColoTensor.dist(model.parameters().get(0)).context().trace();
            trace.enable(true);
            Map<Recompute, Step> steps = new java.util.EnumMap<>(Recompute.class);
            for (Recompute mode : List.of(Recompute.NONE, Recompute.SELECTIVE)) {
                trace.clear();
                FamilyStep.Result r = FamilyStep.run(model, lm, x, y, mode, Tensor::backward);
                steps.put(mode, new Step(r, List.copyOf(trace.records())));
            }
            trace.enable(false);
            return steps;
        });
        for (int r = 0; r < tp; r++) {
            String what = family + " tp " + tp + " rank " + r;
            Step kept = ranks.get(r).get(Recompute.NONE);
            Step again = ranks.get(r).get(Recompute.SELECTIVE);
            assertThat(again.result().loss()).as("%s loss", what).isEqualTo(kept.result().loss());
            assertThat(again.result().grads().keySet()).as(what).containsExactlyElementsOf(kept.result().grads().keySet());
            kept.result().grads().forEach((name, g) -> assertThat(again.result().grads().get(name)).as("%s %s grad", what, name).containsExactly(g));

            List<CommTrace.Record> extra = new ArrayList<>(again.trace());
            kept.trace().forEach(extra::remove);
            List<CommTrace.Record> rest = new ArrayList<>(again.trace());
            extra.forEach(rest::remove);
            assertThat(rest).as("%s: every collective of the step without recompute, in order", what).containsExactlyElementsOf(kept.trace());
            Map<String, Integer> perBlock = new TreeMap<>();
            for (CommTrace.Record e : extra) {
                assertThat(e.phase()).as("%s %s", what, e).isEqualTo(CommTrace.Phase.BACKWARD);
                assertThat(e.collective()).as("%s %s", what, e).isEqualTo(CollectiveKind.ALL_GATHER);
                assertThat(kept.trace()).as("%s: %s gathers again what its forward gathered", what, e)
                        .contains(new CommTrace.Record(e.module(), e.op(), e.collective(), e.bytes(), CommTrace.Phase.FORWARD));
                Matcher m = BLOCK.matcher(e.module());
                assertThat(m.matches()).as("%s: %s inside a block", what, e).isTrue();
                perBlock.merge(m.group(1), 1, Integer::sum);
            }
            Map<String, Integer> blocks = new TreeMap<>();
            kept.trace().stream().map(c -> BLOCK.matcher(c.module())).filter(Matcher::matches).forEach(m -> blocks.put(m.group(1), perBlock(family, m.group(1))));
            assertThat(perBlock).as("%s: backward all-gathers added per block", what).isEqualTo(blocks);
        }
    }

    /** Column inputs a block makes from its own norm (see the class comment). */
    private static int perBlock(String family, String block) {
        return switch (family) {
            case "bert" -> 1;
            case "t5" -> block.startsWith("decoder") ? 3 : 2;
            default -> 2;
        };
    }
}

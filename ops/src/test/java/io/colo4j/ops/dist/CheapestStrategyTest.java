package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.F;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Redistributor;
import io.colo4j.tensor.comm.ThreadWorld;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Layouts no Megatron model produces, which a first-match rule table gathered to replicate: the
 * dispatcher now prices every signature of the op and runs the cheapest, and the answer is still the
 * serial one.
 */
class CheapestStrategyTest {

    /** Runs {@code op} on tp = 2 ranks over inputs laid out as {@code specs}; returns rank 0's trace and output. */
    private record Run(Tensor full, DistSpec outputSpec, List<CommTrace.Record> records, List<CommTrace.Fallback> fallbacks) {}

    private static Run run(Tensor a, DistSpec sa, Tensor b, DistSpec sb, BiFunction<Tensor, Tensor, Tensor> op) {
        return ThreadWorld.call(2, comm -> {
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                ctx = init.context();
            }
            Tensor da = Redistributor.redistribute(ColoTensor.replicate(a, ctx), sa);
            Tensor db = b == null ? null : Redistributor.redistribute(ColoTensor.replicate(b, ctx), sb);
            ctx.trace().enable(true);
            Tensor out = op.apply(da, db);
            DistSpec spec = ColoTensor.dist(out).spec();
            List<CommTrace.Record> records = ctx.trace().records();
            List<CommTrace.Fallback> fallbacks = ctx.trace().fallbacks();
            return new Run(ColoTensor.full(out), spec, records, fallbacks);
        }).get(0);
    }

    @Test
    void matmulOfAnInnerSplitByAReplicaSlicesTheReplicaIntoPartialSums() {
        Tensor a = Tensor.init(Init.uniform(1, -1, 1), 4, 8);
        Tensor b = Tensor.init(Init.uniform(2, -1, 1), 8, 6);
        Run r = run(a, DistSpec.shard(1, 2), b, DistSpec.replicate(), F::matmul);
        // S(k) x B: slicing b locally makes it S(k) x S(k) -> P, instead of gathering a
        assertThat(r.fallbacks()).isEmpty();
        assertThat(r.outputSpec()).isEqualTo(DistSpec.partialSum());
        assertThat(r.records()).extracting(CommTrace.Record::collective).doesNotContain(CollectiveKind.ALL_GATHER);
        float[] expected = F.matmul(a, b).toFloatArray();
        float[] got = r.full().toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            assertThat(got[i]).as("out[%d]", i).isCloseTo(expected[i], within(1e-6f));
        }
    }

    @Test
    void layerNormOverASplitLastDimMovesTheSplitToTheRowsInsteadOfGathering() {
        Tensor x = Tensor.init(Init.uniform(3, -2, 2), 4, 8);
        Tensor gamma = Tensor.init(Init.uniform(4, 0.5f, 1.5f), 8);
        Tensor beta = Tensor.init(Init.uniform(5, -0.5f, 0.5f), 8);
        Run r = run(x, DistSpec.shard(1, 2), null, null, (t, unused) -> F.layerNorm(t, gamma, beta, 1e-5f));
        // an all-to-all moves half of a shard; an all-gather would move all of it
        assertThat(r.fallbacks()).isEmpty();
        assertThat(r.outputSpec()).isEqualTo(DistSpec.shard(0, 2));
        assertThat(r.records()).extracting(CommTrace.Record::collective)
                .contains(CollectiveKind.ALL_TO_ALL).doesNotContain(CollectiveKind.ALL_GATHER);
        // every row is normalised whole on one rank: the serial bits
        assertThat(r.full().toFloatArray()).containsExactly(F.layerNorm(x, gamma, beta, 1e-5f).toFloatArray());
    }

    @Test
    void addOfTwoDifferentSplitsMovesOnlyOneOperand() {
        Tensor a = Tensor.init(Init.uniform(6, -1, 1), 4, 6);
        Tensor b = Tensor.init(Init.uniform(7, -1, 1), 4, 6);
        Run r = run(a, DistSpec.shard(1, 2), b, DistSpec.shard(0, 2), F::add);
        // the first operand's split wins the tie: b is moved to S(1) by one all-to-all
        assertThat(r.fallbacks()).isEmpty();
        assertThat(r.outputSpec()).isEqualTo(DistSpec.shard(1, 2));
        assertThat(r.records()).extracting(CommTrace.Record::collective).containsExactly(CollectiveKind.ALL_TO_ALL);
        assertThat(r.full().toFloatArray()).containsExactly(F.add(a, b).toFloatArray());
    }
}

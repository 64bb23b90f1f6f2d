package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Redistributor;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Under sequence parallelism with selective recompute, a layer's column layers keep the sequence shard of their input,
 * not its all-gathered whole (Megatron): q, k and v read one shared gather, which is given back when the layer's
 * forward returns and gathered again once in backward for the three weight gradients; the partial input gradients are
 * still reduce-scattered once. Counted in bytes live after the layer, collectives traced, bits equal to no recompute.
 */
class ColumnInputRegatherTest {
    static final int D = 16;
    static final int B = 2;
    static final int T = 8;

    static final class Qkv extends Module {
        final Parameter q = registerParameter("q", new Parameter(Init.normal(3, 0, 0.5f), D, D));
        final Parameter k = registerParameter("k", new Parameter(Init.normal(4, 0, 0.5f), D, D));
        final Parameter v = registerParameter("v", new Parameter(Init.normal(5, 0, 0.5f), D, D));
    }

    /** What one rank saw in one step. */
    record Step(float[] out, float[] inputGrad, List<float[]> weightGrads, long liveAfterLayer, List<CommTrace.Record> trace) {}

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 4})
    void theGatheredInputIsGivenBackAtTheLayersEndAndGatheredAgainInBackward(int tp) {
        List<Step[]> ranks = ThreadWorld.call(tp, comm -> {
            Qkv m;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                m = new Qkv();
            }
            m.namedParameters();
            for (Parameter p : List.of(m.q, m.k, m.v)) {
                ((ColoParameter) p).setSpec(DistSpec.shard(1, tp), ComputeSpec.tp1d());
            }
            return new Step[] {step(m, tp, Recompute.NONE), step(m, tp, Recompute.SELECTIVE)};
        });
        long gatheredBytes = (long) B * T * D * Float.BYTES;
        for (Step[] rank : ranks) {
            Step kept = rank[0];
            Step regathered = rank[1];
            assertThat(regathered.out()).containsExactly(kept.out());
            assertThat(regathered.inputGrad()).containsExactly(kept.inputGrad());
            for (int i = 0; i < 3; i++) {
                assertThat(regathered.weightGrads().get(i)).as("weight %d grad", i).containsExactly(kept.weightGrads().get(i));
            }
            assertThat(kept.liveAfterLayer() - regathered.liveAfterLayer()).as("the gathered whole given back at the layer's end")
                    .isEqualTo(tp == 1 ? 0 : gatheredBytes);
            if (tp == 1) {
                assertThat(regathered.trace()).as("nothing gathered at tp 1").isEmpty();
                assertThat(kept.trace()).isEmpty();
                continue;
            }
            // the same collectives as keeping the whole, and one all-gather more in backward: the input's, again
            CommTrace.Record gather = kept.trace().getFirst();
            assertThat(gather.collective()).isEqualTo(CollectiveKind.ALL_GATHER);
            CommTrace.Record again = new CommTrace.Record(gather.module(), gather.op(), CollectiveKind.ALL_GATHER, gather.bytes(), CommTrace.Phase.BACKWARD);
            assertThat(kept.trace()).doesNotContain(again);
            assertThat(regathered.trace()).containsOnlyOnce(again);
            List<CommTrace.Record> withoutAgain = new java.util.ArrayList<>(regathered.trace());
            withoutAgain.remove(again);
            assertThat(withoutAgain).containsExactlyElementsOf(kept.trace());
            assertThat(count(regathered.trace(), CollectiveKind.REDUCE_SCATTER, CommTrace.Phase.BACKWARD)).as("one reduce-scatter for q, k and v").isEqualTo(1);
        }
    }

    @Test
    void anOddTpIsRefusedNamingTheWeightAndItsShape() {
        assertThatThrownBy(() -> ThreadWorld.run(3, comm -> {
            Qkv m;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(3, 1), comm, "cpu")) {
                m = new Qkv();
            }
            m.namedParameters();
            ((ColoParameter) m.q).setSpec(DistSpec.shard(1, 3), ComputeSpec.tp1d());
        })).hasStackTraceContaining("q").hasStackTraceContaining("[16, 16]").hasStackTraceContaining("3");
    }

    private static long count(List<CommTrace.Record> trace, CollectiveKind kind, CommTrace.Phase phase) {
        return trace.stream().filter(r -> r.collective() == kind && r.phase() == phase).count();
    }

    private static Step step(Qkv m, int tp, Recompute mode) {
        for (Parameter p : List.of(m.q, m.k, m.v)) {
            p.zeroGrad();
        }
        CommTrace trace = ColoTensor.dist(m.q).context().trace();
        Tensor leaf = Tensor.init(Init.uniform(9, -1, 1), B, T, D).requiresGrad(true);
        try (MemoryScope step = MemoryScope.open(); var recompute = Recompute.use(mode)) {
            Tensor x = Redistributor.redistribute(ColoTensor.replicate(leaf, ColoTensor.dist(m.q).context()), DistSpec.shard(1, tp));
            trace.enable(true);
            trace.clear();
            // the layer makes its shard (a norm's output in a model), then q, k and v read its one gather
            Tensor y = Recompute.layer("layer", in -> {
                Tensor shard = F.scale(in[0], 0.5f);
                return F.add(F.add(F.addmm(null, shard, m.q), F.addmm(null, shard, m.k)), F.addmm(null, shard, m.v));
            }, x);
            long live = MemoryStats.stepLiveBytes();
            Tensor full = ColoTensor.full(y);
            F.mean(F.mul(y, y)).backward();
            List<CommTrace.Record> records = List.copyOf(trace.records());
            trace.enable(false);
            return new Step(full.toFloatArray(), leaf.grad().toFloatArray(),
                    List.of(ColoTensor.full(ColoTensor.laidOutAs(m.q.grad(), m.q)).toFloatArray(),
                            ColoTensor.full(ColoTensor.laidOutAs(m.k.grad(), m.k)).toFloatArray(),
                            ColoTensor.full(ColoTensor.laidOutAs(m.v.grad(), m.v)).toFloatArray()),
                    live, records);
        }
    }
}

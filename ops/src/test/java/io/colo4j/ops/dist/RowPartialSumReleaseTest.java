package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A row-parallel layer's partial sum is read by no one once reduced (issue 17): the dispatcher all-reduces it in place
 * and gives it back after a reduce-scatter, so the step memory a row layer adds is its output alone, counted in bytes
 * (a kept partial sum adds [tokens, out] more), and its values and gradients stay the serial ones.
 */
class RowPartialSumReleaseTest {
    static final int D = 16;
    static final int B = 2;
    static final int T = 8;

    static final class Proj extends Module {
        final Parameter w = registerParameter("w", new Parameter(Init.normal(3, 0, 0.5f), 4 * D, D));
    }

    private static Tensor input() {
        return Tensor.init(Init.uniform(9, -1, 1), B, T, 4 * D);
    }

    /** Output, input gradient and weight gradient of the row layer y = x w, serial. */
    private static float[][] serial() {
        Proj p = new Proj();
        Tensor x = input().requiresGrad(true);
        Tensor y = F.addmm(null, x, p.w);
        F.mean(F.mul(y, y)).backward();
        return new float[][] {y.toFloatArray(), x.grad().toFloatArray(), p.w.grad().toFloatArray()};
    }

    @ParameterizedTest(name = "tp {0} sequence parallel {1}")
    @CsvSource({"1, false", "2, false", "4, false", "2, true", "4, true"})
    void theRowLayerAddsOnlyItsOutputToTheStepAndKeepsTheSerialValues(int tp, boolean sequenceParallel) {
        float[][] expected = serial();
        List<float[][]> ranks = ThreadWorld.call(tp, comm -> {
            Proj p;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                p = new Proj();
            }
            p.namedParameters();
            ColoParameter w = (ColoParameter) p.w;
            w.setSpec(DistSpec.shard(0, tp), ComputeSpec.tp1d().withSequenceParallel(sequenceParallel));
            Tensor leaf = input().requiresGrad(true);
            try (MemoryScope step = MemoryScope.open()) {
                Tensor x = io.colo4j.tensor.colo.Redistributor.redistribute(ColoTensor.replicate(leaf, w.context()), DistSpec.shard(2, tp));
                long before = MemoryStats.stepLiveBytes();
                Tensor y = F.addmm(null, x, w);
                long added = MemoryStats.stepLiveBytes() - before;
                long outputBytes = (long) y.localNumel() * Float.BYTES;
                assertThat(outputBytes).as("output bytes").isEqualTo((long) B * T / (sequenceParallel ? tp : 1) * D * Float.BYTES);
                assertThat(added).as("step bytes the row layer left live (its output is %d bytes)", outputBytes).isEqualTo(outputBytes);
                Tensor full = ColoTensor.full(y);
                F.mean(F.mul(y, y)).backward();
                return new float[][] {full.toFloatArray(), leaf.grad().toFloatArray(), ColoTensor.full(ColoTensor.laidOutAs(w.grad(), w)).toFloatArray()};
            }
        });
        for (float[][] rank : ranks) {
            MlpBlockEquivalenceTest.assertClose("output", Tensor.of(rank[0], rank[0].length), Tensor.of(expected[0], expected[0].length));
            MlpBlockEquivalenceTest.assertClose("input grad", Tensor.of(rank[1], rank[1].length), Tensor.of(expected[1], expected[1].length));
            MlpBlockEquivalenceTest.assertClose("weight grad", Tensor.of(rank[2], rank[2].length), Tensor.of(expected[2], expected[2].length));
        }
    }

    @Test
    void anOddTpIsRefusedNamingTheWeightAndItsShape() {
        assertThatThrownBy(() -> ThreadWorld.run(3, comm -> {
            Proj p;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(3, 1), comm, "cpu")) {
                p = new Proj();
            }
            p.namedParameters();
            ((ColoParameter) p.w).setSpec(DistSpec.shard(0, 3), ComputeSpec.tp1d().withSequenceParallel(true));
        })).hasStackTraceContaining("w").hasStackTraceContaining("[64, 16]").hasStackTraceContaining("3");
    }
}

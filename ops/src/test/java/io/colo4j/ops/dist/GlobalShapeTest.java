package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A ColoTensor answers in the serial model's (global) terms, as DTensor: {@code shape()}/{@code size()} are the
 * whole tensor's, its data is reached by {@code local()} (this rank's shard) or {@code full()} (the whole, a
 * collective), and element access on a shard is refused saying so. A user model that builds its views from
 * {@code size()} therefore runs sharded unchanged.
 */
class GlobalShapeTest {
    static final int D = 8;
    static final int B = 2;
    static final int T = 3;

    /** Written as serial code: every view takes its sizes from the tensor it views. */
    static final class PairMixer extends Module {
        final Parameter fcW = registerParameter("fc_w", new Parameter(Init.normal(1, 0, 0.5f), D, 4 * D));
        final Parameter projW = registerParameter("proj_w", new Parameter(Init.normal(3, 0, 0.5f), 4 * D, D));
        final Parameter projB = registerParameter("proj_b", new Parameter(Init.normal(4, 0, 0.5f), D));

        Tensor hidden(Tensor x) {
            return F.addmm(null, x, fcW);
        }

        Tensor forward(Tensor x) {
            Tensor h = hidden(x);
            Tensor pairs = h.view(h.size(0), h.size(1), h.size(2) / 2, 2);
            Tensor mixed = F.softmax(pairs, -1).view(h.size(0), h.size(1), h.size(2));
            return F.addmm(projB, F.mul(mixed, h), projW);
        }
    }

    private static Tensor input() {
        return Tensor.init(Init.uniform(9, -1, 1), B, T, D);
    }

    private static Tensor loss(Tensor out) {
        return F.mean(F.mul(out, out));
    }

    private static void shard(PairMixer model, int tp) {
        model.namedParameters();
        ((ColoParameter) model.fcW).setSpec(DistSpec.shard(1, tp), ComputeSpec.tp1d().withOutputReplicate(false));
        ((ColoParameter) model.projW).setSpec(DistSpec.shard(0, tp), ComputeSpec.tp1d());
    }

    /** Three AdamW steps; the losses of each. */
    private static float[] train(PairMixer model, Tensor x) {
        AdamW adam = new AdamW(model.namedParameters(), AdamW.Options.defaults(0.05));
        float[] losses = new float[3];
        for (int step = 0; step < losses.length; step++) {
            Tensor l = loss(model.forward(x));
            losses[step] = l.item();
            l.backward();
            adam.step();
            adam.zeroGrad();
        }
        return losses;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void aModelThatViewsBySizeTrainsAsTheSerialOne(int tp) {
        float[] serial = train(new PairMixer(), input());
        List<float[]> ranks = ThreadWorld.call(tp, comm -> {
            PairMixer model;
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                model = new PairMixer();
                ctx = init.context();
            }
            shard(model, tp);
            return train(model, ColoTensor.replicate(input(), ctx));
        });
        for (float[] losses : ranks) {
            for (int i = 0; i < serial.length; i++) {
                assertThat(losses[i]).as("step %d at tp %d", i + 1, tp)
                        .isCloseTo(serial[i], org.assertj.core.data.Percentage.withPercentage(1e-3));
            }
        }
    }

    @Test
    void onRankOneOfTwoAShardAnswersTheSerialShapeAndReachesItsDataExplicitly() {
        PairMixer serialModel = new PairMixer();
        Tensor serialH = serialModel.hidden(input());
        ThreadWorld.run(2, comm -> {
            PairMixer model;
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                model = new PairMixer();
                ctx = init.context();
            }
            shard(model, 2);
            Tensor h = model.hidden(ColoTensor.replicate(input(), ctx));
            int[] local = ColoTensor.dist(h).layout("h").localShape();

            assertThat(h.shape()).containsExactly(serialH.shape());
            assertThat(h.size(2)).isEqualTo(4 * D);
            assertThat(h.numel()).isEqualTo(serialH.numel());
            assertThat(h.localShape()).containsExactly(local).containsExactly(B, T, 2 * D);
            assertThat(h.local().shape()).containsExactly(local);
            assertThat(h.local().isDistributed()).isFalse();
            assertThat(h.view(h.size(0), h.size(1), h.size(2) / 2, 2).shape()).containsExactly(B, T, 2 * D, 2);
            assertThat(h.full().toFloatArray()).containsExactly(serialH.toFloatArray());
            assertThat(h.full().isDistributed()).isFalse();
            assertThatThrownBy(() -> h.get(0, 0, 0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("get(): tensor [2, 3, 32] is shard(dims=[2]")
                    .hasMessageContaining("over tp 2 (rank " + comm.rank() + ")")
                    .hasMessageContaining("call full()").hasMessageContaining("local()");
            assertThatThrownBy(h::toFloatArray).hasMessageContaining("toFloatArray(): tensor [2, 3, 32]");

            Tensor weight = model.fcW;
            assertThat(weight.shape()).containsExactly(D, 4 * D);
            assertThat(weight.localShape()).containsExactly(D, 2 * D);
            assertThat(weight.full().toFloatArray()).containsExactly(serialModel.fcW.toFloatArray());
            assertThatThrownBy(() -> weight.get(0, 0)).hasMessageContaining("tensor [8, 32] is shard");
            Tensor bias = model.projB;
            assertThat(bias.isDistributed()).isTrue();
            assertThat(bias.get(0)).as("a replicated tensor's element is the serial one")
                    .isEqualTo(serialModel.projB.get(0));
        });
    }

    @Test
    void aShardedParametersGradientGathersThroughItsLayout() {
        PairMixer serialModel = new PairMixer();
        loss(serialModel.forward(input())).backward();
        ThreadWorld.run(2, comm -> {
            PairMixer model;
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                model = new PairMixer();
                ctx = init.context();
            }
            shard(model, 2);
            loss(model.forward(ColoTensor.replicate(input(), ctx))).backward();
            Tensor grad = ColoTensor.laidOutAs(model.fcW.grad(), model.fcW);
            assertThat(grad.shape()).containsExactly(D, 4 * D);
            MlpBlockEquivalenceTest.assertClose("fc_w.grad", grad.full(), serialModel.fcW.grad());
            assertThatThrownBy(() -> ColoTensor.laidOutAs(model.projB.grad(), model.fcW))
                    .hasMessageContaining("local data [8] is not a shard of");
        });
    }

    @Test
    void aTpThatDoesNotDivideTheModelFailsNamingTheParameter() {
        assertThatThrownBy(() -> ThreadWorld.run(3, comm -> {
            PairMixer model;
            try (InitContext init = InitContext.open(ProcessGroup.of(3, 1), comm, "cpu")) {
                model = new PairMixer();
            }
            shard(model, 3);
        })).hasStackTraceContaining("fc_w").hasStackTraceContaining("[8, 32]").hasStackTraceContaining("3");
    }
}

package io.colo4j.tensor.colo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedistributorTest {
    private static final int[] SHAPE = {4, 24};

    private static Tensor full() {
        return Tensor.init(Init.uniform(5, -4, 4), SHAPE);
    }

    private static DistContext context(io.colo4j.tensor.comm.Communicator comm, int tp) {
        try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
            return ctx.context();
        }
    }

    static List<DistSpec> specs(int tp) {
        return List.of(DistSpec.replicate(), DistSpec.shard(0, tp), DistSpec.shard(1, tp), DistSpec.shard(1, tp, 3), DistSpec.shard(1, tp, 2));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void everyConversionBetweenLayoutsGivesTheSameFullTensor(int tp) {
        ThreadWorld.run(tp, comm -> {
            DistContext ctx = context(comm, tp);
            for (DistSpec from : specs(tp)) {
                for (DistSpec to : specs(tp)) {
                    Tensor x = ColoTensor.distribute(full(), from, ctx);
                    Tensor y = Redistributor.redistribute(x, to);
                    assertThat(y.shape()).containsExactly(SHAPE);
                    assertThat(y.localShape()).containsExactly(ColoTensor.distribute(full(), to, ctx).localShape());
                    assertThat(y.local().toFloatArray()).as("%s -> %s", from, to)
                            .containsExactly(ColoTensor.distribute(full(), to, ctx).local().toFloatArray());
                    assertThat(ColoTensor.full(y).toFloatArray()).containsExactly(full().toFloatArray());
                    assertThat(y.full().toFloatArray()).containsExactly(full().toFloatArray());
                }
            }
        });
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void partialSumsReduceAndScatter(int tp) {
        ThreadWorld.run(tp, comm -> {
            DistContext ctx = context(comm, tp);
            Tensor piece = Tensor.full(comm.rank() + 1, 24, 6);
            Tensor partial = ColoTensor.label(piece.copy(), new DistState(DistSpec.partialSum(), new int[] {24, 6}, ctx));
            float expected = tp * (tp + 1) / 2f;
            assertThat(Redistributor.redistribute(partial, DistSpec.replicate()).toFloatArray()).containsOnly(expected);
            assertThatThrownBy(partial::toFloatArray).hasMessageContaining("partial(sum) over tp " + tp);
            Tensor scattered = Redistributor.redistribute(partial, DistSpec.shard(0, tp));
            assertThat(scattered.shape()).containsExactly(24, 6);
            assertThat(scattered.localShape()).containsExactly(24 / tp, 6);
            assertThat(scattered.local().toFloatArray()).containsOnly(expected);
            Tensor stridedScatter = Redistributor.redistribute(partial, DistSpec.shard(0, tp, 2));
            assertThat(stridedScatter.local().toFloatArray()).containsOnly(expected);
        });
    }

    @Test
    void backwardRunsTheConjugateCollective() {
        ThreadWorld.run(2, comm -> {
            DistContext ctx = context(comm, 2);
            ctx.trace().enable(true);
            Tensor leaf = full().requiresGrad(true);
            Tensor sharded = Redistributor.redistribute(ColoTensor.replicate(leaf, ctx), DistSpec.shard(1, 2));
            Tensor copied = Redistributor.copyToTpRegion(ColoTensor.replicate(leaf, ctx));
            sharded.backward(Tensor.ones(sharded.localShape()));
            copied.backward(Tensor.ones(SHAPE));
            // split's conjugate gathers the gradient (all ones everywhere); copy's all-reduces it (2 ranks)
            assertThat(leaf.grad().toFloatArray()).containsOnly(1f + 2f);
            List<CollectiveKind> backward = ctx.trace().records().stream()
                    .filter(r -> r.phase() == CommTrace.Phase.BACKWARD).map(CommTrace.Record::collective).toList();
            assertThat(backward).containsExactly(CollectiveKind.ALL_GATHER, CollectiveKind.ALL_REDUCE);
        });
    }

    static final class Big extends Module {
        final Parameter w = registerParameter("w", new Parameter(Init.normal(3, 0, 1), 512, 1024));
        final Parameter vocab = registerParameter("vocab", new Parameter(Init.normal(4, 0, 1), 10, 4));
    }

    @Test
    void lazyParametersMaterialiseOnlyTheirShardWithTheSerialValues() {
        Tensor serialW = Tensor.init(Init.normal(3, 0, 1), 512, 1024);
        Tensor serialVocab = Tensor.init(Init.normal(4, 0, 1), 10, 4);
        ThreadWorld.run(4, comm -> {
            Big model;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(4, 1), comm, "cpu")) {
                model = new Big();
            }
            assertThat(model.w).isInstanceOf(ColoParameter.class);
            assertThat(model.w.isMaterialized()).isFalse();
            model.namedParameters();
            ColoParameter w = (ColoParameter) model.w;
            w.setSpec(DistSpec.shard(1, 4), ComputeSpec.tp1d());
            assertThat(w.isMaterialized()).isFalse();
            assertThat(w.shape()).containsExactly(512, 1024);
            assertThat(w.localShape()).containsExactly(512, 256);
            assertThat(w.local().toFloatArray()).containsExactly(
                    serialW.narrow(1, comm.rank() * 256, 256).toFloatArray());
            // the parameter's memory is its shard, nothing more
            assertThat(w.storage().numel()).isEqualTo(512L * 256);

            ColoParameter vocab = (ColoParameter) model.vocab;
            vocab.setSpec(DistSpec.shard(0, 4), ComputeSpec.tp1d(), true);
            assertThat(ColoTensor.dist(vocab).globalShape()).containsExactly(12, 4);
            assertThat(ColoTensor.dist(vocab).validShape()).containsExactly(10, 4);
            assertThat(vocab.shape()).as("the serial shape, padding left out").containsExactly(10, 4);
            assertThat(vocab.localShape()).containsExactly(3, 4);
            assertThat(vocab.full().toFloatArray()).containsExactly(serialVocab.toFloatArray());
            Tensor gathered = ColoTensor.full(vocab);
            assertThat(gathered.shape()).containsExactly(10, 4);
            assertThat(gathered.toFloatArray()).containsExactly(serialVocab.toFloatArray());
            if (comm.rank() == 3) {
                // global rows 10 and 11 are padding: local rows 1 and 2 of the last shard
                assertThat(vocab.detach().narrow(0, 1, 2).toFloatArray()).containsOnly(0f);
            }
        });
    }

    @Test
    void aSpecThatCannotApplyNamesParameterShapeAndDegreeAndChangesNothing() {
        ThreadWorld.run(3, comm -> {
            Big model;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(3, 1), comm, "cpu")) {
                model = new Big();
            }
            model.namedParameters();
            ColoParameter vocab = (ColoParameter) model.vocab;
            assertThatThrownBy(() -> vocab.setSpec(DistSpec.shard(0, 3), ComputeSpec.tp1d()))
                    .hasMessageContaining("vocab").hasMessageContaining("[10, 4]").hasMessageContaining("3");
            assertThat(vocab.spec()).isEqualTo(DistSpec.replicate());
            assertThat(vocab.shape()).containsExactly(10, 4);
        });
    }
}

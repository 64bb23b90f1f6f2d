package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Shards;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * A Megatron MLP block (column c_fc, gelu, row c_proj) sharded at tp = 1, 2, 4 equals the serial one, with the bias
 * added before gelu as its own pass (addmm's bias) or fused into it (Megatron's bias_gelu).
 */
class MlpBlockEquivalenceTest {
    static final int D = 8;

    static final class Mlp extends Module {
        final Parameter fcW = registerParameter("fc_w", new Parameter(Init.normal(1, 0, 0.5f), D, 4 * D));
        final Parameter fcB = registerParameter("fc_b", new Parameter(Init.normal(2, 0, 0.5f), 4 * D));
        final Parameter projW = registerParameter("proj_w", new Parameter(Init.normal(3, 0, 0.5f), 4 * D, D));
        final Parameter projB = registerParameter("proj_b", new Parameter(Init.normal(4, 0, 0.5f), D));
        final boolean fusedBiasGelu;

        Mlp(boolean fusedBiasGelu) {
            this.fusedBiasGelu = fusedBiasGelu;
        }

        Tensor forward(Tensor x) {
            Tensor h = fusedBiasGelu ? F.biasGelu(F.addmm(null, x, fcW), fcB) : F.gelu(F.addmm(fcB, x, fcW));
            return F.addmm(projB, h, projW);
        }
    }

    /** Requires grad, as a hidden state inside a network does, so the input-gradient all-reduce runs. */
    private static Tensor input() {
        return Tensor.init(Init.uniform(9, -1, 1), 2, 3, D).requiresGrad(true);
    }

    private static Tensor loss(Tensor out) {
        return F.mean(F.mul(out, out));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void lossAndGradientsMatchSerial(int tp) {
        lossAndGradientsMatchSerial(tp, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void withBiasGeluFusedLossAndGradientsMatchSerial(int tp) {
        lossAndGradientsMatchSerial(tp, true);
    }

    private static void lossAndGradientsMatchSerial(int tp, boolean fused) {
        Mlp serial = new Mlp(fused);
        Tensor serialInput = input();
        Tensor serialLoss = loss(serial.forward(serialInput));
        serialLoss.backward();

        List<Map<String, Object>> ranks = ThreadWorld.call(tp, comm -> {
            Mlp model;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                model = new Mlp(fused);
            }
            model.namedParameters();
            ((ColoParameter) model.fcW).setSpec(DistSpec.shard(1, tp), ComputeSpec.tp1d().withOutputReplicate(false));
            ((ColoParameter) model.fcB).setSpec(DistSpec.shard(0, tp), ComputeSpec.tp1d().withOutputReplicate(false));
            ((ColoParameter) model.projW).setSpec(DistSpec.shard(0, tp), ComputeSpec.tp1d());
            ColoParameter fc = (ColoParameter) model.fcW;
            fc.context().trace().enable(true);
            Tensor leaf = input();
            Tensor x = ColoTensor.replicate(leaf, fc.context());
            Tensor l = loss(model.forward(x));
            l.backward();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("input.grad", leaf.grad().copy());
            out.put("loss", l.item());
            out.put("trace", fc.context().trace().records());
            out.put("fallbacks", fc.context().trace().fallbacks());
            model.namedParameters().forEach((name, p) -> {
                ColoParameter cp = (ColoParameter) p;
                out.put(name, List.of(cp.grad().copy(), ColoTensor.dist(cp).layout(name)));
            });
            return out;
        });
        for (Map<String, Object> rank : ranks) {
            assertClose("input.grad", (Tensor) rank.get("input.grad"), serialInput.grad());
            assertThat((float) rank.get("loss")).isCloseTo(serialLoss.item(), org.assertj.core.data.Percentage.withPercentage(1e-3));
        }
        serial.namedParameters().forEach((name, p) -> {
            List<Tensor> locals = new ArrayList<>();
            io.colo4j.spec.placement.ShardLayout layout = null;
            for (Map<String, Object> rank : ranks) {
                @SuppressWarnings("unchecked")
                List<Object> entry = (List<Object>) rank.get(name);
                locals.add((Tensor) entry.get(0));
                layout = (io.colo4j.spec.placement.ShardLayout) entry.get(1);
            }
            Tensor full = layout.effectiveKind() == io.colo4j.spec.PlacementKind.REPLICATE ? locals.get(0) : Shards.assemble(locals, layout);
            assertClose(name, full, p.grad());
        });
        @SuppressWarnings("unchecked")
        List<CommTrace.Record> trace = (List<CommTrace.Record>) ranks.get(0).get("trace");
        long forwardReduces = trace.stream().filter(r -> r.phase() == CommTrace.Phase.FORWARD && r.collective() == CollectiveKind.ALL_REDUCE).count();
        long backwardReduces = trace.stream().filter(r -> r.phase() == CommTrace.Phase.BACKWARD && r.collective() == CollectiveKind.ALL_REDUCE).count();
        long others = trace.stream().filter(r -> r.collective() != CollectiveKind.ALL_REDUCE).count();
        // Megatron: one all-reduce forward (after c_proj), one backward (before c_fc), nothing gathered;
        // the mean of the replicated output adds none.
        assertThat(forwardReduces).as("forward all-reduces %s", trace).isEqualTo(tp == 1 ? 0 : 1);
        assertThat(backwardReduces).as("backward all-reduces %s", trace).isEqualTo(tp == 1 ? 0 : 1);
        assertThat(others).as("other collectives %s", trace).isZero();
        assertThat((List<?>) ranks.get(0).get("fallbacks")).as("ops run on gathered inputs").isEmpty();
    }

    @Test
    void aDimNotDivisibleByTpFailsWhenTheSpecIsSet() {
        assertThatThrownBy(() -> ThreadWorld.run(3, comm -> {
            Mlp model;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(3, 1), comm, "cpu")) {
                model = new Mlp(true);
            }
            model.namedParameters();
            ((ColoParameter) model.projB).setSpec(DistSpec.shard(0, 3), ComputeSpec.tp1d());
        })).hasStackTraceContaining("proj_b").hasStackTraceContaining("[8]").hasStackTraceContaining("3");
    }

    static void assertClose(String name, Tensor actual, Tensor expected) {
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        assertThat(a).as(name).hasSameSizeAs(e);
        for (int i = 0; i < a.length; i++) {
            double tol = 1e-5 * Math.max(1.0, Math.abs(e[i])) + 1e-6;
            assertThat((double) a[i]).as("%s[%d]", name, i).isCloseTo(e[i], org.assertj.core.api.Assertions.within(tol * 10));
        }
    }
}

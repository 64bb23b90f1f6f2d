package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.colo4j.tensor.comm.ThreadWorld;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Ops over a sharded dim are not pointwise: softmax and layer_norm over a split last dim (which
 * ColoTensor passed through unchecked) fall back to replicated inputs, give the serial answer, and
 * the fallback is traced. So does an op with no rule at all.
 */
class DispatcherFallbackTest {
    private static final int[] SHAPE = {3, 8};

    private static Tensor x() {
        return Tensor.init(Init.uniform(11, -2, 2), SHAPE).requiresGrad(true);
    }

    private static void checkFallback(String op, Function<Tensor, Tensor> f) {
        Tensor serialInput = x();
        Tensor serial = f.apply(serialInput);
        Tensor weights = Tensor.init(Init.uniform(12, -1, 1), SHAPE);
        serial.backward(weights);
        ThreadWorld.run(2, comm -> {
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                ctx = init.context();
            }
            ctx.trace().enable(true);
            Tensor leaf = x();
            Tensor sharded = io.colo4j.tensor.colo.Redistributor.redistribute(ColoTensor.replicate(leaf, ctx), DistSpec.shard(1, 2));
            Tensor out = f.apply(sharded);
            Tensor full = ColoTensor.full(out);
            assertThat(full.toFloatArray()).as(op).containsExactly(serial.detach().toFloatArray());
            full.backward(weights);
            float[] grad = leaf.grad().toFloatArray();
            float[] expected = serialInput.grad().toFloatArray();
            for (int i = 0; i < grad.length; i++) {
                assertThat(grad[i]).as("%s grad[%d]", op, i).isCloseTo(expected[i], org.assertj.core.api.Assertions.within(1e-6f));
            }
            assertThat(ctx.trace().fallbacks()).extracting(CommTrace.Fallback::op).contains(op);
            assertThat(ctx.trace().records()).extracting(CommTrace.Record::collective).contains(CollectiveKind.ALL_GATHER);
        });
    }

    @Test
    void softmaxOverTheShardedDimFallsBack() {
        checkFallback("softmax", t -> F.softmax(t, -1));
    }

    @Test
    void layerNormOverTheShardedDimFallsBack() {
        Tensor gamma = Tensor.init(Init.uniform(13, 0.5f, 1.5f), 8);
        Tensor beta = Tensor.init(Init.uniform(14, -0.5f, 0.5f), 8);
        checkFallback("layer_norm", t -> F.layerNorm(t, gamma, beta, 1e-5f));
    }

    @Test
    void anOpWithoutAnyRuleFallsBack() {
        checkFallback("cumulative_thing", t -> t.isDistributed()
                ? Dispatcher.dispatch(new Op("cumulative_thing", StrategyGenerator.NONE), in -> F.mul(in[0], in[0]), t)
                : F.mul(t, t));
    }

    /** The fallback's warning reaches the user without an SLF4J provider (this module's tests have none): on System.err. */
    @Test
    void theFallbackWarningReachesStandardErrorWithoutAnSlf4jProvider() {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream previous = System.err;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            checkFallback("unruled_probe", t -> t.isDistributed()
                    ? Dispatcher.dispatch(new Op("unruled_probe", StrategyGenerator.NONE), in -> F.mul(in[0], in[0]), t)
                    : F.mul(t, t));
        } finally {
            System.setErr(previous);
        }
        assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("WARN io.colo4j.ops.dist.Dispatcher - no sharding rule of 'unruled_probe' takes")
                .contains("gathering the inputs to replicate");
    }
}

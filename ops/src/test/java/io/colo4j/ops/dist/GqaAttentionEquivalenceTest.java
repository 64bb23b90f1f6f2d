package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.F;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Redistributor;
import io.colo4j.tensor.comm.ThreadWorld;
import org.junit.jupiter.api.Test;

/**
 * Grouped-query attention with a relative-position bias and RMSNorm, heads split over tp = 2: each
 * rank repeats its own key/value heads for its own query heads and slices the bias; nothing gathered.
 */
class GqaAttentionEquivalenceTest {
    static final int B = 2;
    static final int HQ = 4;
    static final int HKV = 2;
    static final int T = 5;
    static final int HD = 4;

    static Tensor leaf(long seed, int... shape) {
        return Tensor.init(Init.uniform(seed, -1, 1), shape).requiresGrad(true);
    }

    static Tensor compute(Tensor q, Tensor k, Tensor v, Tensor bias, Tensor norm) {
        Tensor keys = F.repeatInterleave(k, HQ / HKV, 1);
        Tensor values = F.repeatInterleave(v, HQ / HKV, 1);
        Tensor attended = F.attention(q, keys, values, bias, true, Float.NaN);
        return F.rmsNorm(attended, norm, 1e-6f);
    }

    @Test
    void matchesSerialWithHeadsSplit() {
        Tensor[] serialIn = {leaf(1, B, HQ, T, HD), leaf(2, B, HKV, T, HD), leaf(3, B, HKV, T, HD), leaf(4, 1, HQ, T, T), leaf(5, HD)};
        Tensor serial = compute(serialIn[0], serialIn[1], serialIn[2], serialIn[3], serialIn[4]);
        Tensor weights = Tensor.init(Init.uniform(6, -1, 1), serial.shape());
        serial.backward(weights);
        ThreadWorld.run(2, comm -> {
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                ctx = init.context();
            }
            ctx.trace().enable(true);
            Tensor[] in = {leaf(1, B, HQ, T, HD), leaf(2, B, HKV, T, HD), leaf(3, B, HKV, T, HD), leaf(4, 1, HQ, T, T), leaf(5, HD)};
            Tensor q = Redistributor.redistribute(ColoTensor.replicate(in[0], ctx), DistSpec.shard(1, 2));
            Tensor k = Redistributor.redistribute(ColoTensor.replicate(in[1], ctx), DistSpec.shard(1, 2));
            Tensor v = Redistributor.redistribute(ColoTensor.replicate(in[2], ctx), DistSpec.shard(1, 2));
            Tensor bias = ColoTensor.replicate(in[3], ctx);
            Tensor norm = ColoTensor.replicate(in[4], ctx);
            int collectivesBefore = ctx.trace().records().size();
            Tensor out = compute(q, k, v, bias, norm);
            assertThat(ctx.trace().records()).hasSize(collectivesBefore);
            assertThat(ctx.trace().fallbacks()).isEmpty();
            assertThat(ColoTensor.dist(out).spec()).isEqualTo(DistSpec.shard(1, 2));
            Tensor full = ColoTensor.full(out);
            float[] expected = serial.detach().toFloatArray();
            float[] actual = full.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).isCloseTo(expected[i], within(1e-5f));
            }
            full.backward(weights);
            for (int i = 0; i < in.length; i++) {
                float[] g = in[i].grad().toFloatArray();
                float[] e = serialIn[i].grad().toFloatArray();
                for (int j = 0; j < e.length; j++) {
                    assertThat(g[j]).as("input %d grad %d", i, j).isCloseTo(e[j], within(1e-5f));
                }
            }
            assertThat(ctx.trace().records()).extracting(CommTrace.Record::phase).contains(CommTrace.Phase.BACKWARD);
        });
    }
}

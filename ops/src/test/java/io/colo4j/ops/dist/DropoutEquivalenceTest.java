package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.F;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.DistState;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Redistributor;
import io.colo4j.tensor.comm.ThreadWorld;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Dropout on ranks draws the serial model's mask whatever the layout: every shard's output (and gradient),
 * gathered, is bit for bit the serial one, for row-, column-, strided-, sequence- and two-dim-sharded
 * activations at tp 1, 2, 3 and 4, and for each dp rank's rows of the global batch at dp 2. So is the fused
 * bias + dropout + residual.
 */
class DropoutEquivalenceTest {
    static final int B = 4;
    static final int T = 12;
    static final int C = 36;
    static final float P = 0.3f;
    static final long SEED = 0x5eedL;

    static Tensor leaf(long seed, int... shape) {
        return Tensor.init(Init.uniform(seed, -1, 1), shape).requiresGrad(true);
    }

    /** tp, dp and the layout (a function of tp) of the dropped activation [B, T, C]. */
    static Stream<Arguments> layouts() {
        List<Arguments> out = new java.util.ArrayList<>();
        for (int[] g : new int[][] {{1, 1}, {2, 1}, {3, 1}, {4, 1}, {1, 2}, {2, 2}}) {
            int tp = g[0];
            out.add(Arguments.of(tp, g[1], "replicated", (IntFunction<DistSpec>) n -> ReplicaSpec.INSTANCE));
            out.add(Arguments.of(tp, g[1], "sequence split S(1)", (IntFunction<DistSpec>) n -> DistSpec.shard(1, n)));
            out.add(Arguments.of(tp, g[1], "column S(-1)", (IntFunction<DistSpec>) n -> DistSpec.shard(-1, n)));
            out.add(Arguments.of(tp, g[1], "fused qkv S(-1, stride 3)", (IntFunction<DistSpec>) n -> DistSpec.shard(-1, n, 3)));
            if (B / g[1] % tp == 0) {
                out.add(Arguments.of(tp, g[1], "row S(0)", (IntFunction<DistSpec>) n -> DistSpec.shard(0, n)));
            }
            if (tp == 4) {
                out.add(Arguments.of(tp, g[1], "two dims S(1) x S(2)",
                        (IntFunction<DistSpec>) n -> new ShardSpec(new int[] {1, 2}, new int[] {2, 2})));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "tp {0} dp {1} {2}")
    @MethodSource("layouts")
    void everyShardDrawsTheSerialMask(int tp, int dp, String name, IntFunction<DistSpec> layout) {
        Tensor x = leaf(1, B, T, C);
        Tensor w = Tensor.init(Init.uniform(2, -1, 1), B, T, C);
        Tensor serial = F.dropout(x, P, true, SEED);
        serial.backward(w);
        float[] want = serial.toFloatArray();
        float[] wantGrad = x.grad().toFloatArray();
        assertThat(want).as("the mask drops something").contains(0f);
        int rows = B / dp;
        int slab = rows * T * C;
        ThreadWorld.run(tp * dp, comm -> {
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu")) {
                ctx = init.context();
            }
            int r = ctx.rank().dpRank();
            Tensor mine = x.detach().narrow(0, r * rows, rows).copy().requiresGrad(true);
            Tensor sharded = Redistributor.redistribute(ColoTensor.replicate(mine, ctx), layout.apply(tp));
            Tensor out = ColoTensor.full(F.dropout(sharded, P, true, SEED));
            out.backward(w.narrow(0, r * rows, rows).copy());
            assertThat(out.toFloatArray()).as("dp rank %d's rows", r)
                    .containsExactly(java.util.Arrays.copyOfRange(want, r * slab, (r + 1) * slab));
            assertThat(mine.grad().toFloatArray()).as("dp rank %d's gradient", r)
                    .containsExactly(java.util.Arrays.copyOfRange(wantGrad, r * slab, (r + 1) * slab));
        });
    }

    /** x's layout (R after a row-parallel all-reduce, column, sequence split), the residual's the same. */
    static Stream<Arguments> fusedLayouts() {
        List<Arguments> out = new java.util.ArrayList<>();
        for (int tp : new int[] {1, 2, 3, 4}) {
            out.add(Arguments.of(tp, "replicated", ReplicaSpec.INSTANCE));
            out.add(Arguments.of(tp, "column S(-1)", DistSpec.shard(-1, tp)));
            out.add(Arguments.of(tp, "sequence split S(1)", DistSpec.shard(1, tp)));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "tp {0} {1}")
    @MethodSource("fusedLayouts")
    void biasDropoutAddMatchesSerial(int tp, String name, DistSpec spec) {
        Tensor[] s = {leaf(3, B, T, C), leaf(4, C), leaf(5, B, T, C)};
        Tensor w = Tensor.init(Init.uniform(6, -1, 1), B, T, C);
        Tensor serial = F.biasDropoutAdd(s[0], s[1], s[2], P, true, SEED);
        serial.backward(w);
        ThreadWorld.run(tp, comm -> {
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                ctx = init.context();
            }
            Tensor[] in = {leaf(3, B, T, C), leaf(4, C), leaf(5, B, T, C)};
            Tensor x = Redistributor.redistribute(ColoTensor.replicate(in[0], ctx), spec);
            Tensor residual = Redistributor.redistribute(ColoTensor.replicate(in[2], ctx), spec);
            Tensor bias = ColoTensor.replicate(in[1], ctx);
            Tensor out = ColoTensor.full(F.biasDropoutAdd(x, bias, residual, P, true, SEED));
            out.backward(w);
            assertThat(out.toFloatArray()).containsExactly(serial.toFloatArray());
            assertThat(in[0].grad().toFloatArray()).as("x's gradient").containsExactly(s[0].grad().toFloatArray());
            assertThat(in[2].grad().toFloatArray()).as("residual's gradient").containsExactly(s[2].grad().toFloatArray());
            float[] gb = in[1].grad().toFloatArray();
            float[] want = s[1].grad().toFloatArray();
            for (int i = 0; i < want.length; i++) {
                // a bias broadcast over a split dim sums its gradient in parts, then all-reduces them
                assertThat(gb[i]).as("bias gradient %d", i).isCloseTo(want[i], within(1e-5f * Math.max(1f, Math.abs(want[i]))));
            }
        });
    }

    @Test
    void aPaddedShardIsRefusedNamingItsShapes() {
        ThreadWorld.run(2, comm -> {
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                ctx = init.context();
            }
            // a vocabulary of 35 padded to 36 to split over 2: the padding has no serial index
            Tensor logits = ColoTensor.label(Tensor.zeros(B, C / 2),
                    new DistState(DistSpec.shard(-1, 2), new int[] {B, C}, new int[] {B, C - 1}, ctx));
            assertThatThrownBy(() -> F.dropout(logits, P, true, SEED))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("dropout").hasMessageContaining("[4, 36]").hasMessageContaining("padded");
        });
    }
}

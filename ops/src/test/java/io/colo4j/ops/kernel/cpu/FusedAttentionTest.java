package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.ops.kernel.AttentionKernels;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;

/**
 * The fused attention kernel against the composed path (matmul, softmax, matmul) it replaces, over several query blocks
 * with a partial last one, causal and cross-length; and its bits as a function of the shapes only.
 */
class FusedAttentionTest {
    private static final int B = 2;
    private static final int H = 3;

    /** The cpu backend seen through KernelBackend only: F.attention then takes the composed path. */
    private static KernelBackend unfused() {
        KernelBackend cpu = new CpuBackend();
        return (KernelBackend) Proxy.newProxyInstance(KernelBackend.class.getClassLoader(), new Class<?>[] {KernelBackend.class},
                (proxy, m, args) -> {
                    try {
                        return m.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private record Run(float[] out, float[] dq, float[] dk, float[] dv) {}

    /** Forward and backward of attention over fresh leaves (q from a fused [B, T, 3, H, hd]-like view when asked). */
    private static Run run(int tq, int tk, int hd, boolean causal, KernelBackend backend) {
        try (var use = Backends.use(backend)) {
            Tensor q = Tensor.init(Init.uniform(1, -2, 2), B, tq, H, hd).requiresGrad(true);
            Tensor k = Tensor.init(Init.uniform(2, -2, 2), B, H, tk, hd).requiresGrad(true);
            Tensor v = Tensor.init(Init.uniform(3, -1, 1), B, H, tk, hd + 3).requiresGrad(true);
            Tensor g = Tensor.init(Init.uniform(4, -1, 1), B, H, tq, hd + 3);
            Tensor out = F.attention(q.permute(0, 2, 1, 3), k, v, null, causal, Float.NaN);
            out.backward(g);
            return new Run(out.toFloatArray(), q.grad().toFloatArray(), k.grad().toFloatArray(), v.grad().toFloatArray());
        }
    }

    private static void assertClose(String what, float[] fused, float[] ref) {
        assertThat(fused).as(what).hasSameSizeAs(ref);
        for (int i = 0; i < ref.length; i++) {
            float tol = 1e-5f * Math.max(1f, Math.abs(ref[i]));
            assertThat(Math.abs(fused[i] - ref[i])).as("%s[%d]: fused %s, composed %s", what, i, fused[i], ref[i]).isLessThanOrEqualTo(tol);
        }
    }

    @Test
    void causalOverSeveralBlocksMatchesTheComposedPath() {
        compare(2 * FusedAttention.BLOCK + 22, 2 * FusedAttention.BLOCK + 22, 16, true);
    }

    @Test
    void crossLengthsMatchTheComposedPath() {
        compare(FusedAttention.BLOCK + 5, 37, 8, false);
    }

    private static void compare(int tq, int tk, int hd, boolean causal) {
        assertThat(Backends.cpu()).isInstanceOf(AttentionKernels.class);
        Run fused = run(tq, tk, hd, causal, Backends.cpu());
        Run composed = run(tq, tk, hd, causal, unfused());
        assertClose("out", fused.out, composed.out);
        assertClose("dq", fused.dq, composed.dq);
        assertClose("dk", fused.dk, composed.dk);
        assertClose("dv", fused.dv, composed.dv);
    }

    /** A tile computed alone (one thread) gives the bits it gets among B x H tiles spread over the pool. */
    @Test
    void bitsDependOnTheShapesOnlyNotOnWhichThreadRunsATile() {
        int t = FusedAttention.BLOCK + 9;
        int hd = 8;
        Tensor q = Tensor.init(Init.uniform(5, -2, 2), B, H, t, hd);
        Tensor k = Tensor.init(Init.uniform(6, -2, 2), B, H, t, hd);
        Tensor v = Tensor.init(Init.uniform(7, -1, 1), B, H, t, hd);
        Tensor g = Tensor.init(Init.uniform(8, -1, 1), B, H, t, hd);
        float[][] all = kernels(q, k, v, g);
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                float[][] one = kernels(tile(q, b, h), tile(k, b, h), tile(v, b, h), tile(g, b, h));
                int tileFloats = t * hd;
                int at = (b * H + h) * tileFloats;
                for (int i = 0; i < all.length; i++) {
                    int per = all[i].length / (B * H);
                    float[] slice = java.util.Arrays.copyOfRange(all[i], (b * H + h) * per, (b * H + h + 1) * per);
                    assertThat(one[i]).as("output %d of tile (%d, %d) at %d", i, b, h, at).containsExactly(slice);
                }
            }
        }
        float[][] again = kernels(q, k, v, g);
        for (int i = 0; i < all.length; i++) {
            assertThat(again[i]).as("output %d on a second run", i).containsExactly(all[i]);
        }
    }

    private static Tensor tile(Tensor x, int b, int h) {
        return x.narrow(0, b, 1).narrow(1, h, 1).contiguous();
    }

    /** out, stats, dq, dk, dv straight from the kernels. */
    private static float[][] kernels(Tensor q, Tensor k, Tensor v, Tensor g) {
        CpuBackend cpu = new CpuBackend();
        int[] s = q.shape();
        Tensor out = Tensor.zeros(s);
        Tensor stats = Tensor.zeros(s[0], s[1], s[2], 2);
        Tensor dq = Tensor.zeros(s);
        Tensor dk = Tensor.zeros(k.shape());
        Tensor dv = Tensor.zeros(v.shape());
        cpu.attention(q, k, v, 0.3f, true, out, stats);
        cpu.attentionBackward(q, k, v, stats, g, 0.3f, true, dq, dk, dv);
        return new float[][] {out.toFloatArray(), stats.toFloatArray(), dq.toFloatArray(), dk.toFloatArray(), dv.toFloatArray()};
    }

    @Test
    void aLastDimWithAStrideIsRefusedNamingTheShapes() {
        Tensor q = Tensor.zeros(1, 1, 4, 2).mT();
        assertThatThrownBy(() -> new CpuBackend().attention(q, q, q, 1f, false, Tensor.zeros(1, 1, 2, 4), Tensor.zeros(1, 1, 2, 2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[1, 1, 2, 4]").hasMessageContaining("stride 1");
    }
}

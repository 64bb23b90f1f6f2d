package io.colo4j.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.cpu.CpuBackend;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * bias + dropout + residual where nothing is dropped (p == 0, or eval) has the identity's backward: the gradient goes
 * to x and the residual as it came, bit for bit, with no mask kernel run; with p > 0 the mask is still redrawn.
 */
class DropoutKeepsAllTest {
    private static final int ROWS = 6;
    private static final int C = 13;

    /** The cpu backend, counting its dropout kernel calls (the mask redrawn in backward). */
    private static KernelBackend counting(AtomicInteger dropoutCalls) {
        KernelBackend cpu = new CpuBackend();
        return (KernelBackend) Proxy.newProxyInstance(KernelBackend.class.getClassLoader(),
                new Class<?>[] {KernelBackend.class}, (proxy, m, args) -> {
                    if (m.getName().equals("dropout")) {
                        dropoutCalls.incrementAndGet();
                    }
                    try {
                        return m.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void nothingDroppedPassesTheGradientThroughWithoutAKernel() {
        AtomicInteger calls = new AtomicInteger();
        Tensor g = Tensor.init(Init.uniform(4, -1, 1), ROWS, C);
        try (var use = Backends.use(counting(calls))) {
            for (boolean training : new boolean[] {true, false}) {
                Tensor x = Tensor.init(Init.uniform(1, -2, 2), ROWS, C).requiresGrad(true);
                Tensor bias = Tensor.init(Init.uniform(2, -1, 1), C).requiresGrad(true);
                Tensor residual = Tensor.init(Init.uniform(3, -1, 1), ROWS, C).requiresGrad(true);
                Tensor y = F.biasDropoutAdd(x, bias, residual, training ? 0f : 0.3f, training, 7);
                y.backward(g);
                assertThat(x.grad().toFloatArray()).as("x's gradient, training %s", training)
                        .containsExactly(g.toFloatArray());
                assertThat(residual.grad().toFloatArray()).as("residual's gradient").containsExactly(g.toFloatArray());
                float[] columns = new float[C];
                float[] gs = g.toFloatArray();
                for (int r = 0; r < ROWS; r++) {
                    for (int c = 0; c < C; c++) {
                        columns[c] += gs[r * C + c];
                    }
                }
                float[] biasGrad = bias.grad().toFloatArray();
                for (int c = 0; c < C; c++) {
                    assertThat(biasGrad[c]).as("bias gradient %d", c).isCloseTo(columns[c], within(1e-5f));
                }
            }
        }
        assertThat(calls).as("dropout kernel calls with nothing dropped").hasValue(0);
    }

    @Test
    void oneTensorAsXAndResidualGetsBothShares() {
        Tensor g = Tensor.init(Init.uniform(5, -1, 1), ROWS, C);
        Tensor x = Tensor.init(Init.uniform(1, -2, 2), ROWS, C).requiresGrad(true);
        F.biasDropoutAdd(x, null, x, 0f, true, 7).backward(g);
        float[] gs = g.toFloatArray();
        float[] got = x.grad().toFloatArray();
        for (int i = 0; i < gs.length; i++) {
            assertThat(got[i]).as("element %d", i).isEqualTo(gs[i] + gs[i]);
        }
    }

    @Test
    void aDropRateStillRedrawsTheMaskInBackward() {
        AtomicInteger calls = new AtomicInteger();
        try (var use = Backends.use(counting(calls))) {
            Tensor x = Tensor.init(Init.uniform(1, -2, 2), ROWS, C).requiresGrad(true);
            Tensor residual = Tensor.init(Init.uniform(3, -1, 1), ROWS, C);
            F.biasDropoutAdd(x, null, residual, 0.1f, true, 7).backward(Tensor.ones(ROWS, C));
        }
        assertThat(calls).as("dropout kernel calls with p 0.1").hasValue(1);
    }
}

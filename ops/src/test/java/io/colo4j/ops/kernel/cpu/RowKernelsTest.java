package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;

/**
 * The row kernels against double-precision references, at sizes with several vectors plus a tail per row and more
 * rows than one block of the weight-gradient sums (so the vector paths, the tails and the block combine all run).
 */
class RowKernelsTest {
    private final CpuBackend cpu = new CpuBackend();

    @Test
    void layerNormBackwardMatchesTheDoubleReferenceAcrossRowBlocks() {
        int rows = 101;
        int n = 67;
        Tensor x = Tensor.init(Init.uniform(1, -2, 2), rows, n);
        Tensor gamma = Tensor.init(Init.uniform(2, 0.5f, 1.5f), n);
        Tensor beta = Tensor.init(Init.uniform(3, -1, 1), n);
        Tensor dy = Tensor.init(Init.uniform(4, -1, 1), rows, n);
        Tensor y = Tensor.zeros(rows, n);
        Tensor mean = Tensor.zeros(rows);
        Tensor rstd = Tensor.zeros(rows);
        Tensor dx = Tensor.zeros(rows, n);
        Tensor dGamma = Tensor.zeros(n);
        Tensor dBeta = Tensor.zeros(n);
        cpu.layerNorm(x, gamma, beta, 1e-5f, y, mean, rstd);
        cpu.layerNormBackward(x, gamma, mean, rstd, dy, dx, dGamma, dBeta);

        float[] xs = x.toFloatArray();
        float[] g = gamma.toFloatArray();
        float[] b = beta.toFloatArray();
        float[] d = dy.toFloatArray();
        double[] refDx = new double[rows * n];
        double[] refY = new double[rows * n];
        double[] refDGamma = new double[n];
        double[] refDBeta = new double[n];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int i = 0; i < n; i++) {
                mu += xs[r * n + i];
            }
            mu /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                var += (xs[r * n + i] - mu) * (xs[r * n + i] - mu);
            }
            double rs = 1 / Math.sqrt(var / n + 1e-5);
            double sumDxhat = 0;
            double sumDxhatXhat = 0;
            for (int i = 0; i < n; i++) {
                double xhat = (xs[r * n + i] - mu) * rs;
                double dxhat = d[r * n + i] * g[i];
                refY[r * n + i] = xhat * g[i] + b[i];
                sumDxhat += dxhat;
                sumDxhatXhat += dxhat * xhat;
                refDGamma[i] += d[r * n + i] * xhat;
                refDBeta[i] += d[r * n + i];
            }
            for (int i = 0; i < n; i++) {
                double xhat = (xs[r * n + i] - mu) * rs;
                refDx[r * n + i] = rs * (d[r * n + i] * g[i] - sumDxhat / n - xhat * sumDxhatXhat / n);
            }
        }
        assertClose("layer_norm y", y.toFloatArray(), refY, 2e-5);
        assertClose("layer_norm dx", dx.toFloatArray(), refDx, 2e-5);
        assertClose("layer_norm dgamma", dGamma.toFloatArray(), refDGamma, 5e-5);
        assertClose("layer_norm dbeta", dBeta.toFloatArray(), refDBeta, 5e-5);
    }

    @Test
    void rmsNormBackwardMatchesTheDoubleReferenceAcrossRowBlocks() {
        int rows = 101;
        int n = 67;
        Tensor x = Tensor.init(Init.uniform(11, -2, 2), rows, n);
        Tensor gamma = Tensor.init(Init.uniform(12, 0.5f, 1.5f), n);
        Tensor dy = Tensor.init(Init.uniform(13, -1, 1), rows, n);
        Tensor y = Tensor.zeros(rows, n);
        Tensor rstd = Tensor.zeros(rows);
        Tensor dx = Tensor.zeros(rows, n);
        Tensor dGamma = Tensor.zeros(n);
        cpu.rmsNorm(x, gamma, 1e-6f, y, rstd);
        cpu.rmsNormBackward(x, gamma, rstd, dy, dx, dGamma);
        float[] xs = x.toFloatArray();
        float[] g = gamma.toFloatArray();
        float[] d = dy.toFloatArray();
        double[] refDx = new double[rows * n];
        double[] refDGamma = new double[n];
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int i = 0; i < n; i++) {
                sq += (double) xs[r * n + i] * xs[r * n + i];
            }
            double rs = 1 / Math.sqrt(sq / n + 1e-6);
            double dot = 0;
            for (int i = 0; i < n; i++) {
                dot += d[r * n + i] * g[i] * xs[r * n + i] * rs;
                refDGamma[i] += d[r * n + i] * xs[r * n + i] * rs;
            }
            for (int i = 0; i < n; i++) {
                refDx[r * n + i] = rs * (d[r * n + i] * g[i] - xs[r * n + i] * rs * dot / n);
            }
        }
        assertClose("rms_norm dx", dx.toFloatArray(), refDx, 2e-5);
        assertClose("rms_norm dgamma", dGamma.toFloatArray(), refDGamma, 5e-5);
    }

    @Test
    void scaledCausalSoftmaxMatchesTheDoubleReference() {
        int t = 37;
        float scale = 0.37f;
        Tensor x = Tensor.init(Init.uniform(5, -4, 4), 3, t, t);
        Tensor y = Tensor.zeros(3, t, t);
        cpu.softmax(x, scale, true, y);
        float[] xs = x.toFloatArray();
        double[] ref = new double[xs.length];
        for (int r = 0; r < 3 * t; r++) {
            int valid = r % t + 1;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < valid; i++) {
                max = Math.max(max, xs[r * t + i] * (double) scale);
            }
            double sum = 0;
            for (int i = 0; i < valid; i++) {
                sum += Math.exp(xs[r * t + i] * (double) scale - max);
            }
            for (int i = 0; i < valid; i++) {
                ref[r * t + i] = Math.exp(xs[r * t + i] * (double) scale - max) / sum;
            }
        }
        assertClose("causal softmax", y.toFloatArray(), ref, 2e-6);
    }

    @Test
    void everyActivationsLoopMatchesItsScalarDefinition() {
        Tensor x = Tensor.init(Init.uniform(6, -5, 5), 9, 41);
        Tensor g = Tensor.init(Init.uniform(7, -1, 1), 9, 41);
        float[] xs = x.toFloatArray();
        float[] gs = g.toFloatArray();
        for (UnaryOp op : UnaryOp.values()) {
            Tensor y = Tensor.zeros(9, 41);
            Tensor dx = Tensor.zeros(9, 41);
            cpu.unary(op, x, y);
            cpu.unaryBackward(op, x, g, dx);
            double[] refY = new double[xs.length];
            double[] refDx = new double[xs.length];
            for (int i = 0; i < xs.length; i++) {
                refY[i] = op.apply(xs[i]);
                refDx[i] = op.derivative(xs[i]) * (double) gs[i];
            }
            assertClose(op + " forward", y.toFloatArray(), refY, 1e-5);
            assertClose(op + " backward", dx.toFloatArray(), refDx, 1e-5);
        }
    }

    @Test
    void geluTanhMatchesItsDoubleFormulaFarFromZeroAndAtTheExtremes() {
        // the vector form is x sigmoid(2u), not 0.5 x (1 + tanh u): both must agree where exp over- and underflows
        float[] values = {-1e14f, -1e6f, -100f, -50f, -12f, -9.5f, -88.7f / 2, 1e6f, 1e14f, 100f, 12f, 0f, -0f};
        int n = 4 * 41;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = i < values.length ? values[i] : -30f + 60f * (i - values.length) / (n - values.length - 1);
        }
        Tensor x = Tensor.of(xs, 4, 41);
        Tensor y = Tensor.zeros(4, 41);
        Tensor dx = Tensor.zeros(4, 41);
        cpu.unary(UnaryOp.GELU_TANH, x, y);
        cpu.unaryBackward(UnaryOp.GELU_TANH, x, Tensor.ones(4, 41), dx);
        double[] refY = new double[n];
        double[] refDx = new double[n];
        for (int i = 0; i < n; i++) {
            double v = xs[i];
            double k = Math.sqrt(2 / Math.PI);
            double t = Math.tanh(k * (v + 0.044715 * v * v * v));
            refY[i] = 0.5 * v * (1 + t);
            refDx[i] = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * 0.044715 * v * v);
        }
        assertClose("gelu forward", y.toFloatArray(), refY, 1e-6);
        assertClose("gelu backward", dx.toFloatArray(), refDx, 1e-6);
    }

    @Test
    void fusedBiasActivationEqualsTheDefaultCompositionOfAddAndActivation() {
        // the interface's default (what the OpenCL backend runs: its add and activation kernels) beside the CPU's fused loop
        KernelBackend composed = (KernelBackend) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {KernelBackend.class}, (proxy, method, args) -> method.getName().startsWith("biasUnary")
                        ? InvocationHandler.invokeDefault(proxy, method, args) : method.invoke(cpu, args));
        Tensor x = Tensor.init(Init.uniform(8, -3, 3), 5, 7, 37);
        Tensor bias = Tensor.init(Init.uniform(9, -1, 1), 37);
        Tensor g = Tensor.init(Init.uniform(10, -1, 1), 5, 7, 37);
        for (UnaryOp op : UnaryOp.values()) {
            Tensor fused = Tensor.zeros(5, 7, 37);
            Tensor reference = Tensor.zeros(5, 7, 37);
            cpu.biasUnary(op, x, bias, fused);
            composed.biasUnary(op, x, bias, reference);
            assertThat(fused.toFloatArray()).as(op + " forward").containsExactly(reference.toFloatArray());
            cpu.biasUnaryBackward(op, x, bias, g, fused);
            composed.biasUnaryBackward(op, x, bias, g, reference);
            assertThat(fused.toFloatArray()).as(op + " backward").containsExactly(reference.toFloatArray());
        }
    }

    /** |actual - expected| <= tol (1 + |expected|), element by element. */
    private static void assertClose(String what, float[] actual, double[] expected, double tol) {
        assertThat(actual).as(what).hasSize(expected.length);
        for (int i = 0; i < actual.length; i++) {
            assertThat(Math.abs(actual[i] - expected[i])).as("%s at %d: %s vs %s", what, i, actual[i], expected[i])
                    .isLessThanOrEqualTo(tol * (1 + Math.abs(expected[i])));
        }
    }
}

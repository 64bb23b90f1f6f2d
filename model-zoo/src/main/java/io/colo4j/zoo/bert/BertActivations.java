package io.colo4j.zoo.bert;

import io.colo4j.ops.F;
import io.colo4j.ops.dist.Dispatcher;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/**
 * BERT's {@code hidden_act}: {@code gelu} is HF's exact GELU, x Phi(x) = x (1 + erf(x / sqrt 2)) / 2;
 * {@code gelu_new} / {@code gelu_pytorch_tanh} the tanh approximation of {@link F#gelu}; {@code relu}.
 *
 * <p>ops has no erf GELU yet, so {@link #geluExact} is a small pointwise op of its own (forward and
 * derivative from a double-precision erfc, relative error below 1e-10, rounded to float), dispatched
 * as a {@code unary} op like dropout: on a feature-split (column-parallel) input it runs on each shard
 * with no communication. It belongs in ops (a {@code UnaryOp.GELU_ERF} kernel); this is the stopgap.
 */
public final class BertActivations {
    private static final double SQRT1_2 = 0.70710678118654752440;
    private static final double INV_SQRT_2PI = 0.39894228040143267794;
    private static final double TWO_OVER_SQRT_PI = 1.12837916709551257390;
    private static final double INV_SQRT_PI = 0.56418958354775628695;

    private BertActivations() {}

    public static Tensor apply(String act, Tensor x) {
        return switch (act) {
            case "gelu" -> geluExact(x);
            case "gelu_new", "gelu_pytorch_tanh" -> F.gelu(x);
            case "relu" -> F.relu(x);
            default -> throw new IllegalArgumentException("unknown hidden_act '" + act + "'");
        };
    }

    /** x Phi(x), as torch.nn.functional.gelu with approximate='none'. */
    public static Tensor geluExact(Tensor x) {
        if (Dispatcher.any(x)) {
            return Dispatcher.dispatch(io.colo4j.ops.dist.Ops.UNARY, in -> geluExact(in[0]), x);
        }
        float[] v = x.toFloatArray();
        float[] y = new float[v.length];
        float[] dy = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            double xi = v[i];
            double cdf = 0.5 * erfc(-xi * SQRT1_2);
            y[i] = (float) (xi * cdf);
            dy[i] = (float) (cdf + xi * INV_SQRT_2PI * Math.exp(-0.5 * xi * xi));
        }
        int[] shape = x.shape();
        Tensor out = Tensor.of(y, shape);
        Tensor derivative = Tensor.of(dy, shape);
        return Autograd.record("gelu_erf", out, g -> new Tensor[] {F.mul(g, derivative)}, x);
    }

    /** The complementary error function in double: a Taylor series of erf below 2.5, Laplace's continued fraction above. */
    static double erfc(double z) {
        if (z < 0) {
            return 2 - erfc(-z);
        }
        if (z < 2.5) {
            double sum = 0;
            double term = z;
            for (int n = 0; n < 200; n++) {
                double c = term / (2 * n + 1);
                sum += c;
                if (Math.abs(c) < 1e-17 * Math.abs(sum)) {
                    break;
                }
                term *= -z * z / (n + 1);
            }
            return 1 - TWO_OVER_SQRT_PI * sum;
        }
        double f = z;
        for (int k = 60; k >= 1; k--) {
            f = z + (k / 2.0) / f;
        }
        return Math.exp(-z * z) * INV_SQRT_PI / f;
    }
}

package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.autograd.GradMode;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Finite-difference gradient checker for float32 ops: compares autograd's gradient of
 * L = sum(w * f(inputs)) (random fixed weights w, so every output element matters) with central
 * differences of L computed in double from float32 evaluations.
 */
public final class GradCheck {
    private final double eps;
    private final double rtol;
    private final double atol;

    private GradCheck(double eps, double rtol, double atol) {
        this.eps = eps;
        this.rtol = rtol;
        this.atol = atol;
    }

    /** Defaults suited to float32 central differences on values of order 1. */
    public static GradCheck standard() {
        return new GradCheck(1e-2, 2e-2, 2e-3);
    }

    public GradCheck withTolerance(double newRtol, double newAtol) {
        return new GradCheck(eps, newRtol, newAtol);
    }

    public GradCheck withEpsilon(double newEps) {
        return new GradCheck(newEps, rtol, atol);
    }

    /** Checks the gradient of every input that requires grad; returns the largest error seen. */
    public double check(String op, Function<Tensor[], Tensor> f, Tensor... inputs) {
        Tensor out = f.apply(inputs);
        float[] weights = randomWeights(out.numel(), 1234);
        Tensor w = Tensor.of(weights, out.shape());
        for (Tensor in : inputs) {
            in.zeroGrad();
        }
        out.backward(w);
        double worst = 0;
        for (int which = 0; which < inputs.length; which++) {
            Tensor input = inputs[which];
            if (!input.requiresGrad()) {
                continue;
            }
            assertThat(input.grad()).as("%s: input %d has no gradient", op, which).isNotNull();
            float[] analytic = input.grad().toFloatArray();
            Tensor probe = input.detach();
            int[] shape = input.shape();
            long n = input.numel();
            int[] index = new int[shape.length];
            for (long e = 0; e < n; e++) {
                float original = probe.get(index);
                double plus;
                double minus;
                try (GradMode.Guard ignored = GradMode.disabled()) {
                    probe.set((float) (original + eps), index);
                    plus = weightedSum(f.apply(inputs), weights);
                    probe.set((float) (original - eps), index);
                    minus = weightedSum(f.apply(inputs), weights);
                    probe.set(original, index);
                }
                double numeric = (plus - minus) / (2 * eps);
                double error = Math.abs(numeric - analytic[(int) e]);
                worst = Math.max(worst, error / (atol + rtol * Math.abs(numeric)));
                assertThat(error)
                        .as("%s: d/d input%d%s: analytic %s vs numeric %s", op, which, Arrays.toString(index),
                                analytic[(int) e], numeric)
                        .isLessThanOrEqualTo(atol + rtol * Math.abs(numeric));
                advance(index, shape);
            }
        }
        return worst;
    }

    private static double weightedSum(Tensor out, float[] weights) {
        float[] values = out.toFloatArray();
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            sum += (double) values[i] * weights[i];
        }
        return sum;
    }

    private static void advance(int[] index, int[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++index[d] < shape[d]) {
                return;
            }
            index[d] = 0;
        }
    }

    public static float[] randomWeights(long n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] w = new float[Math.toIntExact(n)];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return w;
    }

    /** A tensor of uniform values in [-scale, scale] that requires grad. */
    public static Tensor randomInput(long seed, float scale, int... shape) {
        return Tensor.init(Init.uniform(seed, -scale, scale), shape).requiresGrad(true);
    }
}

package io.colo4j.ops.kernel;

import io.colo4j.ops.kernel.cpu.VecMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Elementwise activations, each in one place: its scalar definition (the reference), the CPU backend's
 * Vector API form of it (the same function, which loop tails run on one lane, so that a lane's bits never depend on
 * where a loop ends) and, in
 * {@code colo4j.cl}, one {@code UNARY(NAME, ...)} line with the OpenCL backend's form. An op without a
 * vector form runs the scalar one on every lane. Every unary op shares the dispatcher's {@code unary}
 * strategies (elementwise: any split passes through), so adding one is this constant, its OpenCL line
 * and the {@code F} method that calls it.
 */
public enum UnaryOp {
    /** GPT-2's gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    GELU_TANH {
        @Override
        public float apply(float x) {
            return 0.5f * x * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (x + GELU_COEF * x * x * x)));
        }

        @Override
        public float derivative(float x) {
            float inner = SQRT_2_OVER_PI * (x + GELU_COEF * x * x * x);
            float t = (float) Math.tanh(inner);
            float dInner = SQRT_2_OVER_PI * (1f + 3f * GELU_COEF * x * x);
            return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * dInner;
        }

        /**
         * As x sigmoid(2u) = x / (1 + e^{-2u}), u the tanh's argument: the same function in a third fewer operations and
         * about half the dependent latency (the loop is bound by it), and without 1 + tanh(u)'s cancellation for x < 0.
         */
        @Override
        public FloatVector apply(FloatVector x) {
            FloatVector minusTwoU = x.mul(x).fma(-2f * SQRT_2_OVER_PI * GELU_COEF, -2f * SQRT_2_OVER_PI).mul(x);
            return x.div(VecMath.exp(minusTwoU).add(1f));
        }

        /** With s = sigmoid(2u): s + s (1 - s) x 2u', in that order so that s = 0 (x -> -inf) gives 0, not 0 inf. */
        @Override
        public FloatVector derivative(FloatVector x) {
            FloatVector one = x.broadcast(1f);
            FloatVector x2 = x.mul(x);
            FloatVector s = one.div(VecMath.exp(x2.fma(-2f * SQRT_2_OVER_PI * GELU_COEF, -2f * SQRT_2_OVER_PI).mul(x)).add(1f));
            FloatVector twoDu = x2.fma(6f * SQRT_2_OVER_PI * GELU_COEF, 2f * SQRT_2_OVER_PI);
            return one.sub(s).mul(s).mul(x).fma(twoDu, s);
        }
    },
    RELU {
        @Override
        public float apply(float x) {
            return Math.max(x, 0f);
        }

        @Override
        public float derivative(float x) {
            return x > 0f ? 1f : 0f;
        }

        @Override
        public FloatVector apply(FloatVector x) {
            return x.max(0f);
        }

        @Override
        public FloatVector derivative(FloatVector x) {
            return FloatVector.broadcast(x.species(), 0f).blend(1f, x.compare(VectorOperators.GT, 0f));
        }
    },
    /** x * sigmoid(x), Llama's SwiGLU gate. */
    SILU {
        @Override
        public float apply(float x) {
            return x / (1f + (float) Math.exp(-x));
        }

        @Override
        public float derivative(float x) {
            float s = 1f / (1f + (float) Math.exp(-x));
            return s * (1f + x * (1f - s));
        }

        @Override
        public FloatVector apply(FloatVector x) {
            return x.div(VecMath.exp(x.neg()).add(1f));
        }

        @Override
        public FloatVector derivative(FloatVector x) {
            FloatVector s = VecMath.exp(x.neg()).add(1f);
            s = FloatVector.broadcast(x.species(), 1f).div(s);
            return s.mul(x.mul(s.neg().add(1f)).add(1f));
        }
    },
    EXP {
        @Override
        public float apply(float x) {
            return (float) Math.exp(x);
        }

        @Override
        public float derivative(float x) {
            return (float) Math.exp(x);
        }

        @Override
        public FloatVector apply(FloatVector x) {
            return VecMath.exp(x);
        }

        @Override
        public FloatVector derivative(FloatVector x) {
            return VecMath.exp(x);
        }
    },
    NEG {
        @Override
        public float apply(float x) {
            return -x;
        }

        @Override
        public float derivative(float x) {
            return -1f;
        }

        @Override
        public FloatVector apply(FloatVector x) {
            return x.neg();
        }

        @Override
        public FloatVector derivative(FloatVector x) {
            return FloatVector.broadcast(x.species(), -1f);
        }
    },
    /** BERT's pooler. */
    TANH {
        @Override
        public float apply(float x) {
            return (float) Math.tanh(x);
        }

        @Override
        public float derivative(float x) {
            float t = (float) Math.tanh(x);
            return 1f - t * t;
        }

        @Override
        public FloatVector apply(FloatVector x) {
            return VecMath.tanh(x);
        }

        @Override
        public FloatVector derivative(FloatVector x) {
            FloatVector t = VecMath.tanh(x);
            return t.mul(t).neg().add(1f);
        }
    },
    /**
     * BERT's {@code gelu}, torch's exact GELU x Phi(x) = x (1 + erf(x / sqrt 2)) / 2: computed in double
     * from a double-precision erfc (relative error below 1e-10) and rounded to float, on every lane.
     */
    GELU_ERF {
        @Override
        public float apply(float x) {
            return (float) (x * normalCdf(x));
        }

        @Override
        public float derivative(float x) {
            double xi = x;
            return (float) (normalCdf(xi) + xi * INV_SQRT_2PI * Math.exp(-0.5 * xi * xi));
        }
    };

    public static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    public static final float GELU_COEF = 0.044715f;
    private static final double SQRT1_2 = 0.70710678118654752440;
    private static final double INV_SQRT_2PI = 0.39894228040143267794;
    private static final double TWO_OVER_SQRT_PI = 1.12837916709551257390;
    private static final double INV_SQRT_PI = 0.56418958354775628695;

    public abstract float apply(float x);

    public abstract float derivative(float x);

    /** The CPU backend's form; without one of its own, the scalar definition lane by lane. */
    public FloatVector apply(FloatVector x) {
        return lanewise(x, true);
    }

    public FloatVector derivative(FloatVector x) {
        return lanewise(x, false);
    }

    private FloatVector lanewise(FloatVector x, boolean forward) {
        float[] lanes = x.toArray();
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = forward ? apply(lanes[i]) : derivative(lanes[i]);
        }
        return FloatVector.fromArray(x.species(), lanes, 0);
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2. */
    private static double normalCdf(double x) {
        return 0.5 * erfc(-x * SQRT1_2);
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

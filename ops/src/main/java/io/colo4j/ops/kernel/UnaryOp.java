package io.colo4j.ops.kernel;

/** Elementwise activations; scalar definitions here are the reference the vector kernels must match. */
public enum UnaryOp {
    /** GPT-2's gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    GELU_TANH,
    RELU,
    /** x * sigmoid(x), Llama's SwiGLU gate. */
    SILU,
    EXP,
    NEG,
    /** BERT's pooler. Kept last: device kernels index these by ordinal. */
    TANH;

    public static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    public static final float GELU_COEF = 0.044715f;

    public float apply(float x) {
        return switch (this) {
            case GELU_TANH -> 0.5f * x * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (x + GELU_COEF * x * x * x)));
            case RELU -> Math.max(x, 0f);
            case SILU -> x / (1f + (float) Math.exp(-x));
            case EXP -> (float) Math.exp(x);
            case NEG -> -x;
            case TANH -> (float) Math.tanh(x);
        };
    }

    public float derivative(float x) {
        return switch (this) {
            case GELU_TANH -> {
                float inner = SQRT_2_OVER_PI * (x + GELU_COEF * x * x * x);
                float t = (float) Math.tanh(inner);
                float dInner = SQRT_2_OVER_PI * (1f + 3f * GELU_COEF * x * x);
                yield 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * dInner;
            }
            case RELU -> x > 0f ? 1f : 0f;
            case SILU -> {
                float s = 1f / (1f + (float) Math.exp(-x));
                yield s * (1f + x * (1f - s));
            }
            case EXP -> (float) Math.exp(x);
            case NEG -> -1f;
            case TANH -> {
                float t = (float) Math.tanh(x);
                yield 1f - t * t;
            }
        };
    }
}

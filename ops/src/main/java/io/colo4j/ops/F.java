package io.colo4j.ops;

import io.colo4j.ops.functional.Activations;
import io.colo4j.ops.functional.Arithmetic;
import io.colo4j.ops.functional.Attention;
import io.colo4j.ops.functional.Dropout;
import io.colo4j.ops.functional.Embeddings;
import io.colo4j.ops.functional.Losses;
import io.colo4j.ops.functional.Matmul;
import io.colo4j.ops.functional.Normalization;
import io.colo4j.ops.functional.SoftmaxOps;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;

/** The differentiable operators, as torch.nn.functional: what model code calls. */
public final class F {
    private F() {}

    public static Tensor matmul(Tensor a, Tensor b) {
        return Matmul.matmul(a, b);
    }

    /** torch Linear layout: weight [out, in]. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return Matmul.linear(x, weight, bias);
    }

    /** HuggingFace Conv1D layout: x @ weight [in, out] + bias. */
    public static Tensor addmm(Tensor bias, Tensor x, Tensor weight) {
        return Matmul.addmm(bias, x, weight);
    }

    public static Tensor add(Tensor a, Tensor b) {
        return Arithmetic.binary(BinaryOp.ADD, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return Arithmetic.binary(BinaryOp.SUB, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return Arithmetic.binary(BinaryOp.MUL, a, b);
    }

    public static Tensor div(Tensor a, Tensor b) {
        return Arithmetic.binary(BinaryOp.DIV, a, b);
    }

    public static Tensor scale(Tensor x, float factor) {
        return Arithmetic.scale(x, factor);
    }

    public static Tensor sum(Tensor x) {
        return Arithmetic.sum(x);
    }

    public static Tensor mean(Tensor x) {
        return Arithmetic.mean(x);
    }

    /** GPT-2's gelu_new (tanh approximation). */
    public static Tensor gelu(Tensor x) {
        return Activations.unary(UnaryOp.GELU_TANH, x);
    }

    /**
     * gelu_new(x + bias), fused: Megatron's bias_gelu. Pass the matmul before it no bias ({@code F.addmm(null, x, w)})
     * to save the bias pass; under tensor parallelism x and the bias are split the same way (column-parallel).
     */
    public static Tensor biasGelu(Tensor x, Tensor bias) {
        return Activations.biasUnary(UnaryOp.GELU_TANH, x, bias);
    }

    /** The exact GELU, x Phi(x) (torch's approximate='none', BERT's gelu). */
    public static Tensor geluExact(Tensor x) {
        return Activations.unary(UnaryOp.GELU_ERF, x);
    }

    public static Tensor relu(Tensor x) {
        return Activations.unary(UnaryOp.RELU, x);
    }

    public static Tensor tanh(Tensor x) {
        return Activations.unary(UnaryOp.TANH, x);
    }

    public static Tensor exp(Tensor x) {
        return Activations.unary(UnaryOp.EXP, x);
    }

    public static Tensor silu(Tensor x) {
        return Activations.unary(UnaryOp.SILU, x);
    }

    /** Inverted dropout; the mask is the serial model's on any tp/dp layout (see {@code functional.Dropout}). */
    public static Tensor dropout(Tensor x, float p, boolean training, long seed) {
        return Dropout.dropout(x, p, training, seed);
    }

    /** residual + dropout(x + bias) in one pass (bias over the last dim, or null); residual + (x + bias) when not training. */
    public static Tensor biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, float p, boolean training, long seed) {
        return Dropout.biasDropoutAdd(x, bias, residual, p, training, seed);
    }

    /**
     * {@link #biasDropoutAdd} written over x, for an x nothing reads again (a row layer's output); x then fails on any
     * access. See {@link Dropout#biasDropoutAddConsuming}.
     */
    public static Tensor biasDropoutAddConsuming(Tensor x, Tensor bias, Tensor residual, float p, boolean training, long seed) {
        return Dropout.biasDropoutAddConsuming(x, bias, residual, p, training, seed);
    }

    public static Tensor softmax(Tensor x, int dim) {
        return SoftmaxOps.softmax(x, dim);
    }

    /** RMSNorm (T5, Llama): x / sqrt(mean(x^2) + eps) * weight. */
    public static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        return Normalization.rmsNorm(x, weight, eps);
    }

    /** torch.repeat_interleave along one dim (grouped-query attention's key/value heads). */
    public static Tensor repeatInterleave(Tensor x, int repeats, int dim) {
        return io.colo4j.ops.functional.Shaping.repeatInterleave(x, repeats, dim);
    }

    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return Normalization.layerNorm(x, weight, bias, eps);
    }

    /** Causal scaled-dot-product attention over [batch, heads, seq, head_dim]. */
    public static Tensor causalAttention(Tensor q, Tensor k, Tensor v) {
        return Attention.scaledDotProduct(q, k, v, true);
    }

    public static Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal) {
        return Attention.scaledDotProduct(q, k, v, causal);
    }

    /**
     * softmax(scale q k^T + bias) v, with q [B, H, Tq, hd] and k, v [B, H, Tk, ...]: cross-attention,
     * padding masks and relative position biases as {@code bias} (null for none), scale NaN for 1/sqrt(hd).
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor bias, boolean causal, float scale) {
        return Attention.scaledDotProduct(q, k, v, bias, causal, scale);
    }

    public static Tensor embedding(IntTensor ids, Tensor weight) {
        return Embeddings.embedding(ids, weight);
    }

    /** Mean cross-entropy over targets other than -100. */
    public static Tensor crossEntropy(Tensor logits, IntTensor targets) {
        return Losses.crossEntropy(logits, targets);
    }

    /**
     * Mean cross-entropy over targets other than -100 whose backward writes the gradient over the logits, for a loss
     * over logits nothing reads again ({@code F.crossEntropyConsuming(forward(ids), targets)}): one [tokens, vocab / tp]
     * buffer fewer at the step's peak. The logits fail on any access after backward. See
     * {@link Losses#crossEntropyConsuming}.
     */
    public static Tensor crossEntropyConsuming(Tensor logits, IntTensor targets) {
        return Losses.crossEntropyConsuming(logits, targets);
    }

    public static Tensor crossEntropy(Tensor logits, IntTensor targets, int ignoreIndex) {
        return Losses.crossEntropy(logits, targets, ignoreIndex, logits.globalShape()[logits.dim() - 1]);
    }
}

package io.colo4j.ops.kernel;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;

/**
 * The numerical kernels every backend provides. Operators in {@code io.colo4j.ops.functional} own
 * shapes, broadcasting and autograd; a backend only computes. Unless a parameter says otherwise,
 * tensors are contiguous and outputs are preallocated by the caller, so a device backend can keep
 * them resident and a new backend is one more implementation of this interface. A kernel writes every
 * element of its outputs (operators allocate them uninitialised, {@code Tensor.empty}), except those
 * documented as added into, which callers zero.
 */
public interface KernelBackend {
    String name();

    /**
     * out = alpha * a @ b + beta * out over the leading (batch) dims. {@code a} is [..., m, k] and
     * {@code b} [..., k, n]; each may be a transposed view of contiguous memory in its last two dims
     * (stride 1 in either), and its batch dims must flatten to one stride. {@code out} is contiguous.
     */
    void matmul(Tensor a, Tensor b, Tensor out, float alpha, float beta);

    /** out = op(a, b) elementwise; a and b are views already broadcast to out's shape (stride 0 allowed). */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** out = op(x). */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /** gradIn = gradOut * op'(x). */
    void unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, Tensor gradIn);

    /**
     * out = op(x + bias), bias [x's last dim] added to every row (Megatron's bias_gelu when op is gelu). The default
     * composes the backend's own add and activation kernels (two passes); a backend with a fused kernel overrides it.
     */
    default void biasUnary(UnaryOp op, Tensor x, Tensor bias, Tensor out) {
        binary(BinaryOp.ADD, x, rowBroadcast(bias, x), out);
        unary(op, out, out);
    }

    /** gradIn = gradOut * op'(x + bias); the bias gradient is gradIn summed over rows, left to the caller. */
    default void biasUnaryBackward(UnaryOp op, Tensor x, Tensor bias, Tensor gradOut, Tensor gradIn) {
        binary(BinaryOp.ADD, x, rowBroadcast(bias, x), gradIn);
        unaryBackward(op, gradIn, gradOut, gradIn);
    }

    /** {@code bias} [n] as a view of x's shape [..., n] that repeats it on every row (stride 0). */
    private static Tensor rowBroadcast(Tensor bias, Tensor x) {
        long[] strides = new long[x.dim()];
        strides[x.dim() - 1] = bias.strides()[0];
        return bias.asStrided(x.shape(), strides, bias.offset());
    }

    /** out = sum of {@code in} over the dims where {@code out} (same rank) has size 1. */
    void sumTo(Tensor in, Tensor out);

    /** Row softmax of scale * x over the last dim; with causal, x is [..., T, T] and column j > row i is masked. */
    void softmax(Tensor x, float scale, boolean causal, Tensor out);

    /** gradIn = scale * y * (gradOut - rowsum(gradOut * y)), y the softmax output. */
    void softmaxBackward(Tensor y, Tensor gradOut, float scale, Tensor gradIn);

    /** LayerNorm over the last dim; saves per-row mean and 1/std for backward. */
    void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor mean, Tensor rstd);

    /** Writes gradIn and adds into gradGamma / gradBeta (either may be null). */
    void layerNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor gradOut,
                           Tensor gradIn, Tensor gradGamma, Tensor gradBeta);

    /**
     * RMSNorm over the last dim (T5, Llama): out = x / sqrt(mean(x^2) + eps) * gamma; saves 1/rms per
     * row. The default is plain loops over host memory, correct on any backend; fast ones override it.
     */
    default void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out, Tensor rstd) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int i = 0; i < n; i++) {
                float v = HostAccess.get(x, (long) r * n + i);
                sq += (double) v * v;
            }
            float rs = (float) (1.0 / Math.sqrt(sq / n + eps));
            HostAccess.set(rstd, r, rs);
            for (int i = 0; i < n; i++) {
                HostAccess.set(out, (long) r * n + i, HostAccess.get(x, (long) r * n + i) * rs * HostAccess.get(gamma, i));
            }
        }
    }

    /** gradIn = rstd * (g*gamma - xhat * mean(g*gamma*xhat)); adds sum over rows of g*xhat into gradGamma (may be null). */
    default void rmsNormBackward(Tensor x, Tensor gamma, Tensor rstd, Tensor gradOut, Tensor gradIn, Tensor gradGamma) {
        int n = x.size(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(n, 1));
        double[] gg = new double[n];
        for (int r = 0; r < rows; r++) {
            float rs = HostAccess.get(rstd, r);
            double dot = 0;
            for (int i = 0; i < n; i++) {
                long e = (long) r * n + i;
                float xhat = HostAccess.get(x, e) * rs;
                float g = HostAccess.get(gradOut, e);
                dot += (double) g * HostAccess.get(gamma, i) * xhat;
                gg[i] += (double) g * xhat;
            }
            float mean = (float) (dot / n);
            for (int i = 0; i < n; i++) {
                long e = (long) r * n + i;
                float xhat = HostAccess.get(x, e) * rs;
                HostAccess.set(gradIn, e, rs * (HostAccess.get(gradOut, e) * HostAccess.get(gamma, i) - xhat * mean));
            }
        }
        if (gradGamma != null) {
            for (int i = 0; i < n; i++) {
                HostAccess.set(gradGamma, i, HostAccess.get(gradGamma, i) + (float) gg[i]);
            }
        }
    }

    /**
     * out[i, :] = weight[ids[i] - rowOffset, :] for ids in [rowOffset, rowOffset + rows); other ids give
     * zero rows (how a vocab-parallel shard sees ids owned by another rank).
     */
    void embedding(IntTensor ids, Tensor weight, int rowOffset, Tensor out);

    /** gradWeight[ids[i] - rowOffset, :] += gradOut[i, :] for ids this shard owns. */
    void embeddingBackward(IntTensor ids, Tensor gradOut, int rowOffset, Tensor gradWeight);

    /**
     * Per-row cross-entropy of logits [N, V] against targets; rows whose target equals ignoreIndex get
     * loss 0. Saves each row's log-sum-exp. Only the first {@code validColumns} columns take part
     * (padding of a vocab to a multiple of tp never counts).
     */
    void crossEntropy(Tensor logits, IntTensor targets, int ignoreIndex, int validColumns, Tensor losses, Tensor logSumExp);

    /**
     * gradLogits = (softmax(logits) - onehot(target)) * rowScale, zero for ignored rows and padding; a
     * target outside [0, validColumns) (owned by another vocab shard) subtracts nothing. {@code gradLogits} may be
     * {@code logits} itself: each logit is read before its gradient is written.
     */
    void crossEntropyBackward(Tensor logits, IntTensor targets, int ignoreIndex, int validColumns,
                              Tensor logSumExp, float rowScale, Tensor gradLogits);

    /**
     * out = in * mask, the mask 0 or 1/(1-p) per element as {@code bits} draws it at the element's global
     * index ({@code index}: where each local element sits in the serial tensor), so every shard draws the
     * serial model's mask. Also dropout's backward (gradIn = gradOut * the same mask). Contiguous tensors.
     */
    void dropout(DropoutBits bits, GlobalIndex index, Tensor in, Tensor out);

    /** out = residual + (x + bias) * mask in one pass, bias [C] over the last dim (null: none), mask as {@link #dropout}. */
    void biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, DropoutBits bits, GlobalIndex index, Tensor out);
}

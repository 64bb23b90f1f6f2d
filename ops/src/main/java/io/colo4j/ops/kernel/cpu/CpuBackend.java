package io.colo4j.ops.kernel.cpu;

import io.colo4j.ops.kernel.AttentionKernels;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GemmOperand;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;

/** The default backend: Vector API kernels on a fork/join pool sized to the cores. */
public final class CpuBackend implements KernelBackend, AttentionKernels {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, float alpha, float beta) {
        GemmOperand ga = operand("a", a);
        GemmOperand gb = operand("b", b);
        int m = ga.rows();
        int k = ga.cols();
        int n = gb.cols();
        int batch = Math.max(ga.batch(), gb.batch());
        if (gb.rows() != k || out.size(-2) != m || out.size(-1) != n || (ga.batch() != batch && ga.batch() != 1)
                || (gb.batch() != batch && gb.batch() != 1) || out.numel() != (long) batch * m * n || !out.isContiguous()) {
            throw new IllegalArgumentException("matmul: incompatible operands " + Shapes.format(a.shape()) + " @ "
                    + Shapes.format(b.shape()) + " -> " + Shapes.format(out.shape()));
        }
        long strideA = ga.batch() == 1 ? 0 : ga.batchStride();
        long strideB = gb.batch() == 1 ? 0 : gb.batchStride();
        Sgemm.sgemmBatched(ga.transposed(), gb.transposed(), batch, m, n, k, alpha,
                a.segment(), a.offset(), strideA, ga.leadingDim(),
                b.segment(), b.offset(), strideB, gb.leadingDim(),
                beta, out.segment(), out.offset(), (long) m * n, Math.max(n, 1));
    }

    private static GemmOperand operand(String name, Tensor t) {
        GemmOperand g = GemmOperand.of(t);
        if (g == null) {
            throw new IllegalArgumentException("matmul: operand " + name + " " + Shapes.format(t.shape())
                    + " with strides " + java.util.Arrays.toString(t.strides()) + " is not a gemm layout; call GemmOperand.prepare");
        }
        return g;
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Pointwise.binary(op, a, b, out);
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        Pointwise.unary(op, x, out);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor gradOut, Tensor gradIn) {
        Pointwise.unaryBackward(op, x, gradOut, gradIn);
    }

    @Override
    public void biasUnary(UnaryOp op, Tensor x, Tensor bias, Tensor out) {
        Pointwise.biasUnary(op, x, bias, out);
    }

    @Override
    public void biasUnaryBackward(UnaryOp op, Tensor x, Tensor bias, Tensor gradOut, Tensor gradIn) {
        Pointwise.biasUnaryBackward(op, x, bias, gradOut, gradIn);
    }

    @Override
    public void sumTo(Tensor in, Tensor out) {
        Reductions.sumTo(in, out);
    }

    @Override
    public void softmax(Tensor x, float scale, boolean causal, Tensor out) {
        Softmax.forward(x, scale, causal, out);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor gradOut, float scale, Tensor gradIn) {
        Softmax.backward(y, gradOut, scale, gradIn);
    }

    @Override
    public void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor mean, Tensor rstd) {
        LayerNorm.forward(x, gamma, beta, eps, out, mean, rstd);
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor gradOut,
                                  Tensor gradIn, Tensor gradGamma, Tensor gradBeta) {
        LayerNorm.backward(x, gamma, mean, rstd, gradOut, gradIn, gradGamma, gradBeta);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out, Tensor rstd) {
        RmsNorm.forward(x, gamma, eps, out, rstd);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor gamma, Tensor rstd, Tensor gradOut, Tensor gradIn, Tensor gradGamma) {
        RmsNorm.backward(x, gamma, rstd, gradOut, gradIn, gradGamma);
    }

    @Override
    public void embedding(IntTensor ids, Tensor weight, int rowOffset, Tensor out) {
        Embedding.forward(ids, weight, rowOffset, out);
    }

    @Override
    public void embeddingBackward(IntTensor ids, Tensor gradOut, int rowOffset, Tensor gradWeight) {
        Embedding.backward(ids, gradOut, rowOffset, gradWeight);
    }

    @Override
    public void crossEntropy(Tensor logits, IntTensor targets, int ignoreIndex, int validColumns, Tensor losses, Tensor logSumExp) {
        CrossEntropy.forward(logits, targets, ignoreIndex, validColumns, losses, logSumExp);
    }

    @Override
    public void crossEntropyBackward(Tensor logits, IntTensor targets, int ignoreIndex, int validColumns,
                                     Tensor logSumExp, float rowScale, Tensor gradLogits) {
        CrossEntropy.backward(logits, targets, ignoreIndex, validColumns, logSumExp, rowScale, gradLogits);
    }

    @Override
    public void dropout(DropoutBits bits, GlobalIndex index, Tensor in, Tensor out) {
        DropoutKernels.dropout(bits, index, in, out);
    }

    @Override
    public void biasDropoutAdd(Tensor x, Tensor bias, Tensor residual, DropoutBits bits, GlobalIndex index, Tensor out) {
        DropoutKernels.biasDropoutAdd(x, bias, residual, bits, index, out);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, float scale, boolean causal, Tensor out, Tensor stats) {
        FusedAttention.forward(q, k, v, scale, causal, out, stats);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor stats, Tensor gradOut, float scale, boolean causal,
                                  Tensor gradQ, Tensor gradK, Tensor gradV) {
        FusedAttention.backward(q, k, v, stats, gradOut, scale, causal, gradQ, gradK, gradV);
    }
}

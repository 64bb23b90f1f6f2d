package io.colo4j.ops;

import static io.colo4j.tensor.GradCheck.randomInput;

import io.colo4j.tensor.GradCheck;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** A finite-difference gradient check for every differentiable operator. */
class OpGradientTest {
    private final GradCheck check = GradCheck.standard();

    @Test
    void matmul2dAndBatched() {
        check.check("matmul", in -> F.matmul(in[0], in[1]), randomInput(1, 1, 3, 4), randomInput(2, 1, 4, 5));
        check.check("bmm", in -> F.matmul(in[0], in[1]), randomInput(3, 1, 2, 3, 4), randomInput(4, 1, 2, 4, 2));
        check.check("matmul batched x 2d", in -> F.matmul(in[0], in[1]), randomInput(5, 1, 2, 3, 4), randomInput(6, 1, 4, 3));
        check.check("matmul transposed views", in -> F.matmul(in[0].mT(), in[1].mT()), randomInput(7, 1, 4, 3), randomInput(8, 1, 5, 4));
    }

    @Test
    void linearBothLayouts() {
        check.check("linear [out,in]", in -> F.linear(in[0], in[1], in[2]),
                randomInput(1, 1, 2, 3, 4), randomInput(2, 1, 5, 4), randomInput(3, 1, 5));
        check.check("addmm conv1d [in,out]", in -> F.addmm(in[2], in[0], in[1]),
                randomInput(4, 1, 2, 3, 4), randomInput(5, 1, 4, 5), randomInput(6, 1, 5));
        check.check("linear no bias", in -> F.linear(in[0], in[1], null), randomInput(7, 1, 3, 4), randomInput(8, 1, 2, 4));
    }

    @Test
    void broadcastingArithmetic() {
        check.check("add", in -> F.add(in[0], in[1]), randomInput(1, 1, 2, 3, 4), randomInput(2, 1, 4));
        check.check("sub", in -> F.sub(in[0], in[1]), randomInput(3, 1, 2, 1, 4), randomInput(4, 1, 3, 1));
        check.check("mul", in -> F.mul(in[0], in[1]), randomInput(5, 1, 3, 4), randomInput(6, 1, 3, 1));
        Tensor denominator = Tensor.init(io.colo4j.tensor.Init.uniform(7, 1f, 2f), 4).requiresGrad(true);
        check.check("div", in -> F.div(in[0], in[1]), randomInput(8, 1, 3, 4), denominator);
        check.check("scale", in -> F.scale(in[0], -2.5f), randomInput(9, 1, 3, 4));
        check.check("sum", in -> F.sum(in[0]), randomInput(10, 1, 3, 4));
        check.check("mean", in -> F.mean(in[0]), randomInput(11, 1, 2, 5));
    }

    @Test
    void activations() {
        check.check("gelu", in -> F.gelu(in[0]), randomInput(1, 3, 4, 37));
        check.check("gelu exact (erf)", in -> F.geluExact(in[0]), randomInput(8, 3, 4, 37));
        check.check("relu", in -> F.relu(in[0]), randomInput(2, 3, 4, 37));
        check.check("silu", in -> F.silu(in[0]), randomInput(3, 3, 4, 37));
        check.check("tanh", in -> F.tanh(in[0]), randomInput(6, 3, 4, 37));
        check.check("exp", in -> F.exp(in[0]), randomInput(7, 1, 4, 37));
        check.check("dropout", in -> F.dropout(in[0], 0.3f, true, 99), randomInput(4, 1, 4, 37));
        check.check("dropout of a transposed view", in -> F.dropout(in[0].mT(), 0.3f, true, 99), randomInput(9, 2, 5, 3));
        check.check("bias_dropout_add", in -> F.biasDropoutAdd(in[0], in[1], in[2], 0.3f, true, 99),
                randomInput(10, 2, 3, 37), randomInput(11, 1, 37), randomInput(12, 2, 3, 37));
        check.check("bias_dropout_add, no bias", in -> F.biasDropoutAdd(in[0], null, in[1], 0.3f, true, 99),
                randomInput(13, 2, 3, 37), randomInput(14, 2, 3, 37));
        check.check("bias_dropout_add in eval", in -> F.biasDropoutAdd(in[0], in[1], in[2], 0.3f, false, 99),
                randomInput(15, 3, 37), randomInput(16, 1, 37), randomInput(17, 3, 37));
        check.check("gelu on a transposed view", in -> F.gelu(in[0].mT()), randomInput(5, 2, 3, 5));
        check.check("bias gelu", in -> F.biasGelu(in[0], in[1]), randomInput(9, 3, 4, 37), randomInput(10, 1, 37));
        check.check("bias gelu on a transposed view", in -> F.biasGelu(in[0].mT(), in[1]), randomInput(11, 2, 5, 3), randomInput(12, 1, 5));
    }

    @Test
    void softmaxAndLayerNorm() {
        check.check("softmax", in -> F.softmax(in[0], -1), randomInput(1, 2, 3, 37));
        check.check("layer_norm", in -> F.layerNorm(in[0], in[1], in[2], 1e-5f),
                randomInput(2, 2, 3, 4, 37), randomInput(3, 1, 37), randomInput(4, 1, 37));
    }

    @Test
    void attention() {
        check.withTolerance(3e-2, 3e-3).check("causal attention", in -> F.causalAttention(in[0], in[1], in[2]),
                randomInput(1, 1, 2, 2, 5, 4), randomInput(2, 1, 2, 2, 5, 4), randomInput(3, 1, 2, 2, 5, 4));
        check.withTolerance(3e-2, 3e-3).check("full attention on permuted views",
                in -> F.attention(in[0].permute(0, 2, 1, 3), in[1].permute(0, 2, 1, 3), in[2].permute(0, 2, 1, 3), false),
                randomInput(4, 1, 1, 3, 2, 4), randomInput(5, 1, 1, 3, 2, 4), randomInput(6, 1, 1, 3, 2, 4));
        // more query rows than one block of the fused kernel (64), so its later blocks and their key ranges are checked
        check.withTolerance(3e-2, 3e-3).check("causal attention over two query blocks", in -> F.causalAttention(in[0], in[1], in[2]),
                randomInput(7, 1, 1, 1, 70, 2), randomInput(8, 1, 1, 1, 70, 2), randomInput(9, 1, 1, 1, 70, 3));
        check.withTolerance(3e-2, 3e-3).check("cross attention, no bias, over two query blocks",
                in -> F.attention(in[0], in[1], in[2], false), randomInput(10, 1, 1, 2, 66, 2),
                randomInput(11, 1, 1, 2, 5, 2), randomInput(12, 1, 1, 2, 5, 3));
    }

    @Test
    void rmsNorm() {
        check.check("rms_norm", in -> F.rmsNorm(in[0], in[1], 1e-6f), randomInput(1, 2, 3, 37), randomInput(2, 1, 37));
    }

    @Test
    void attentionWithBiasScaleAndCrossLengths() {
        check.withTolerance(3e-2, 3e-3).check("cross attention with learned bias",
                in -> F.attention(in[0], in[1], in[2], in[3], false, 1f),
                randomInput(1, 1, 2, 2, 3, 4), randomInput(2, 1, 2, 2, 5, 4), randomInput(3, 1, 2, 2, 5, 6),
                randomInput(4, 1, 1, 2, 3, 5));
        check.withTolerance(3e-2, 3e-3).check("causal attention with a padding mask",
                in -> F.attention(in[0], in[1], in[2], Tensor.init(io.colo4j.tensor.Init.uniform(9, -2, 0), 2, 1, 1, 4), true, Float.NaN),
                randomInput(5, 1, 2, 2, 4, 3), randomInput(6, 1, 2, 2, 4, 3), randomInput(7, 1, 2, 2, 4, 3));
    }

    @Test
    void repeatInterleave() {
        check.check("repeat_interleave", in -> F.repeatInterleave(in[0], 3, 1), randomInput(1, 1, 2, 2, 3, 2));
        Tensor x = Tensor.vector(1, 2);
        org.assertj.core.api.Assertions.assertThat(F.repeatInterleave(x, 2, 0).toFloatArray()).containsExactly(1, 1, 2, 2);
    }

    @Test
    void embeddingAndCrossEntropy() {
        IntTensor ids = IntTensor.of(new int[] {3, 0, 3, 5, 1, 2}, 2, 3);
        check.check("embedding", in -> F.embedding(ids, in[0]), randomInput(1, 1, 6, 4));
        IntTensor targets = IntTensor.of(new int[] {1, -100, 6, 0, 2, 6}, 2, 3);
        check.check("cross_entropy", in -> F.crossEntropy(in[0], targets), randomInput(2, 3, 2, 3, 7));
        check.check("cross_entropy with vocab padding",
                in -> io.colo4j.ops.functional.Losses.crossEntropy(in[0], targets, -100, 7), randomInput(3, 3, 2, 3, 9));
    }

    @Test
    void composedChainThroughViews() {
        check.check("chain", in -> {
            Tensor h = F.addmm(in[2], in[0], in[1]);
            Tensor split = h.split(4, -1).get(1);
            return F.gelu(F.add(split.reshape(2, 3, 4), in[0].narrow(2, 0, 4)));
        }, randomInput(1, 1, 2, 3, 5), randomInput(2, 1, 5, 8), randomInput(3, 1, 8));
    }
}

package io.colo4j.ops.kernel.opencl;

import static io.colo4j.ops.kernel.opencl.OpenClTesting.assertClose;
import static io.colo4j.ops.kernel.opencl.OpenClTesting.expand;
import static io.colo4j.ops.kernel.opencl.OpenClTesting.rand;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.ops.optim.AdamW;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every opencl kernel against the cpu backend on the same inputs (relative error <= 1e-5 elementwise, <= 1e-4
 * for reductions and matmul), forward and backward, at odd sizes and on views; each on the zero-copy backend, on
 * a backend that keeps separate device copies (the GPU residency protocol), and with everything a GPU gets
 * (device copies, tiled sgemm, work-group-per-row kernels), all on the PoCL device.
 */
class OpenClKernelsTest {
    private static final KernelBackend CPU = Backends.cpu();
    private static final double ELEMENTWISE = 1e-5;
    private static final double REDUCTION = 1e-4;

    /** Backends by name (JUnit would close AutoCloseable arguments after each invocation). */
    static Stream<Arguments> backends() {
        return Stream.of(Arguments.of("zero-copy"), Arguments.of("device-copies"), Arguments.of("gpu-style"));
    }

    private static OpenClBackend backend(String mode) {
        return switch (mode) {
            case "zero-copy" -> OpenClTesting.shared();
            case "device-copies" -> OpenClTesting.copyMode();
            default -> OpenClTesting.gpuStyle();
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void matmulAllTranspositionsOddSizesAlphaBeta(String mode) {
        OpenClBackend cl = backend(mode);
        int[][] mnk = {{1, 1, 1}, {5, 7, 3}, {33, 65, 17}, {70, 31, 130}, {64, 96, 128}, {9, 40, 1100}};
        long seed = 1;
        for (int[] s : mnk) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (int ta = 0; ta < 2; ta++) {
                for (int tb = 0; tb < 2; tb++) {
                    Tensor a = ta == 0 ? rand(seed++, 1, m, k) : rand(seed++, 1, k, m).mT();
                    Tensor b = tb == 0 ? rand(seed++, 1, k, n) : rand(seed++, 1, n, k).mT();
                    Tensor init = rand(seed++, 1, m, n);
                    for (float[] ab : new float[][] {{1f, 0f}, {0.5f, -1.5f}}) {
                        Tensor want = init.copy();
                        Tensor got = init.copy();
                        CPU.matmul(a, b, want, ab[0], ab[1]);
                        cl.matmul(a, b, got, ab[0], ab[1]);
                        assertClose("matmul " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " alpha,beta=" + ab[0]
                                + "," + ab[1], got, want, REDUCTION);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void batchedMatmulWithBroadcastAndOffsetViews(String mode) {
        OpenClBackend cl = backend(mode);
        Tensor a = rand(1, 1, 3, 9, 13);
        Tensor b = rand(2, 1, 13, 11);
        check(cl, a, b, new int[] {3, 9, 11}, "batched x 2d");
        check(cl, rand(3, 1, 9, 13), rand(4, 1, 3, 13, 11), new int[] {3, 9, 11}, "2d x batched");
        // attention-like: [B, H, T, hd] @ [B, H, hd, T] via a transposed view, and a narrowed (offset) operand
        Tensor q = rand(5, 1, 2, 3, 10, 8);
        Tensor kk = rand(6, 1, 2, 3, 10, 8);
        check(cl, q, kk.mT(), new int[] {2, 3, 10, 10}, "q @ k^T");
        Tensor big = rand(7, 1, 20, 13);
        check(cl, big.narrow(0, 5, 9), rand(8, 1, 13, 4), new int[] {9, 4}, "offset view");
    }

    @Test
    void theGpuTiledSgemmMatchesToo() {
        OpenClTesting.shared();
        try (OpenClBackend tiled = OpenClBackend.create(null, true, true)) {
            assertThat(tiled.gemmKernel()).startsWith("gemm_tiled");
            long seed = 100;
            for (int[] s : new int[][] {{1, 1, 1}, {5, 7, 3}, {33, 65, 17}, {17, 40, 130}}) {
                for (int t = 0; t < 4; t++) {
                    Tensor a = (t & 1) == 0 ? rand(seed++, 1, s[0], s[2]) : rand(seed++, 1, s[2], s[0]).mT();
                    Tensor b = (t & 2) == 0 ? rand(seed++, 1, s[2], s[1]) : rand(seed++, 1, s[1], s[2]).mT();
                    Tensor want = rand(seed, 1, s[0], s[1]);
                    Tensor got = want.copy();
                    CPU.matmul(a, b, want, 0.5f, 2f);
                    tiled.matmul(a, b, got, 0.5f, 2f);
                    assertClose("tiled " + java.util.Arrays.toString(s) + " t=" + t, got, want, REDUCTION);
                }
            }
            check(tiled, rand(1, 1, 3, 9, 13), rand(2, 1, 13, 11), new int[] {3, 9, 11}, "tiled batched x 2d");
            check(tiled, rand(5, 1, 2, 3, 10, 8), rand(6, 1, 2, 3, 10, 8).mT(), new int[] {2, 3, 10, 10}, "tiled q @ k^T");
        }
    }

    private static void check(OpenClBackend cl, Tensor a, Tensor b, int[] outShape, String what) {
        Tensor want = Tensor.zeros(outShape);
        Tensor got = Tensor.zeros(outShape);
        CPU.matmul(a, b, want, 1f, 0f);
        cl.matmul(a, b, got, 1f, 0f);
        assertClose(what, got, want, REDUCTION);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void binaryWithBroadcastingAndStridedOutputs(String mode) {
        OpenClBackend cl = backend(mode);
        int[] shape = {3, 5, 7};
        Tensor[][] cases = {
            {rand(1, 2, 3, 5, 7), rand(2, 2, 3, 5, 7)},
            {rand(3, 2, 3, 5, 7), expand(rand(4, 2, 7), shape)},
            {expand(rand(5, 2, 3, 1, 7), shape), expand(rand(6, 2, 5, 1), shape)},
            {expand(Tensor.scalar(1.7f), shape), rand(7, 2, 3, 5, 7)},
            {rand(8, 2, 7, 5, 3).permute(2, 1, 0), expand(rand(9, 2, 3, 1, 1), shape)},
        };
        for (BinaryOp op : BinaryOp.values()) {
            for (int i = 0; i < cases.length; i++) {
                Tensor a = cases[i][0];
                Tensor b = op == BinaryOp.DIV ? expand(Tensor.full(1.25f, 1), shape) : cases[i][1];
                Tensor want = Tensor.zeros(shape);
                Tensor got = Tensor.zeros(shape);
                CPU.binary(op, a, b, want);
                cl.binary(op, a, b, got);
                assertClose(op + " case " + i, got, want, ELEMENTWISE);
            }
        }
        // a strided (transposed) output (the cpu kernel takes only row-contiguous outputs: compare values), and a
        // rank-6 layout that no kernel takes (falls back to cpu, coherently)
        Tensor a = rand(10, 2, 4, 6);
        Tensor b = rand(11, 2, 4, 6);
        Tensor want = Tensor.zeros(4, 6);
        Tensor got = Tensor.zeros(6, 4).mT();
        CPU.binary(BinaryOp.MUL, a, b, want);
        cl.binary(BinaryOp.MUL, a, b, got);
        assertClose("strided output", got, want, ELEMENTWISE);
        int[] six = {2, 3, 2, 3, 2, 3};
        Tensor x = rand(12, 2, 3, 2, 3, 2, 3, 2).permute(5, 4, 3, 2, 1, 0);
        Tensor y = rand(13, 2, six);
        want = Tensor.zeros(six);
        got = Tensor.zeros(six);
        CPU.binary(BinaryOp.SUB, x, y, want);
        cl.binary(BinaryOp.SUB, x, y, got);
        assertClose("rank 6 fallback", got, want, ELEMENTWISE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void unaryOpsAndTheirDerivatives(String mode) {
        OpenClBackend cl = backend(mode);
        Tensor x = rand(1, 6, 3, 1031);
        Tensor g = rand(2, 1, 3, 1031);
        for (UnaryOp op : UnaryOp.values()) {
            Tensor want = Tensor.zeros(3, 1031);
            Tensor got = Tensor.zeros(3, 1031);
            CPU.unary(op, x, want);
            cl.unary(op, x, got);
            assertClose(op + " forward", got, want, ELEMENTWISE);
            CPU.unaryBackward(op, x, g, want);
            cl.unaryBackward(op, x, g, got);
            assertClose(op + " backward", got, want, ELEMENTWISE);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void sumToEveryBroadcastPattern(String mode) {
        OpenClBackend cl = backend(mode);
        Tensor in = rand(1, 2, 4, 5, 6);
        int[][] targets = {{1, 5, 1}, {4, 1, 6}, {1, 1, 6}, {1, 1, 1}, {4, 5, 1}, {4, 5, 6}};
        for (int[] t : targets) {
            for (Tensor src : new Tensor[] {in, rand(2, 2, 6, 5, 4).permute(2, 1, 0)}) {
                Tensor want = Tensor.zeros(t);
                Tensor got = Tensor.zeros(t);
                CPU.sumTo(src, want);
                cl.sumTo(src, got);
                assertClose("sumTo " + java.util.Arrays.toString(t), got, want, REDUCTION);
            }
        }
        Tensor rows = rand(3, 2, 37, 19);
        Tensor want = Tensor.zeros(1, 19);
        Tensor got = Tensor.zeros(1, 19);
        CPU.sumTo(rows, want);
        cl.sumTo(rows, got);
        assertClose("bias gradient", got, want, REDUCTION);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void softmaxForwardBackwardCausal(String mode) {
        OpenClBackend cl = backend(mode);
        for (int n : new int[] {1, 37, 128}) {
            for (boolean causal : new boolean[] {false, true}) {
                int[] shape = {2, 3, n, n};
                Tensor x = rand(n, 4, shape);
                Tensor g = rand(n + 1, 1, shape);
                Tensor want = Tensor.zeros(shape);
                Tensor got = Tensor.zeros(shape);
                CPU.softmax(x, 0.125f, causal, want);
                cl.softmax(x, 0.125f, causal, got);
                assertClose("softmax n=" + n + " causal=" + causal, got, want, REDUCTION);
                Tensor gw = Tensor.zeros(shape);
                Tensor gg = Tensor.zeros(shape);
                CPU.softmaxBackward(want, g, 0.125f, gw);
                cl.softmaxBackward(want, g, 0.125f, gg);
                assertClose("softmax backward n=" + n, gg, gw, REDUCTION);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void layerNormForwardAndBackward(String mode) {
        OpenClBackend cl = backend(mode);
        for (int n : new int[] {1, 37, 100}) {
            int rows = 7;
            Tensor x = rand(1, 3, rows, n);
            Tensor gamma = rand(2, 1, n);
            Tensor beta = rand(3, 1, n);
            Tensor[] cpuOut = {Tensor.zeros(rows, n), Tensor.zeros(rows), Tensor.zeros(rows)};
            Tensor[] clOut = {Tensor.zeros(rows, n), Tensor.zeros(rows), Tensor.zeros(rows)};
            CPU.layerNorm(x, gamma, beta, 1e-5f, cpuOut[0], cpuOut[1], cpuOut[2]);
            cl.layerNorm(x, gamma, beta, 1e-5f, clOut[0], clOut[1], clOut[2]);
            assertClose("layernorm n=" + n, clOut[0], cpuOut[0], REDUCTION);
            assertClose("mean", clOut[1], cpuOut[1], REDUCTION);
            assertClose("rstd", clOut[2], cpuOut[2], REDUCTION);
            Tensor dy = rand(4, 1, rows, n);
            Tensor init = rand(5, 1, n);
            Tensor[] cpuGrads = {Tensor.zeros(rows, n), init.copy(), init.copy()};
            Tensor[] clGrads = {Tensor.zeros(rows, n), init.copy(), init.copy()};
            CPU.layerNormBackward(x, gamma, cpuOut[1], cpuOut[2], dy, cpuGrads[0], cpuGrads[1], cpuGrads[2]);
            cl.layerNormBackward(x, gamma, cpuOut[1], cpuOut[2], dy, clGrads[0], clGrads[1], clGrads[2]);
            assertClose("layernorm dx n=" + n, clGrads[0], cpuGrads[0], REDUCTION);
            assertClose("layernorm dgamma (accumulated)", clGrads[1], cpuGrads[1], REDUCTION);
            assertClose("layernorm dbeta (accumulated)", clGrads[2], cpuGrads[2], REDUCTION);
            Tensor dxOnly = Tensor.zeros(rows, n);
            cl.layerNormBackward(x, gamma, cpuOut[1], cpuOut[2], dy, dxOnly, null, null);
            assertClose("layernorm dx without weight grads", dxOnly, cpuGrads[0], REDUCTION);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void rmsNormForwardAndBackward(String mode) {
        OpenClBackend cl = backend(mode);
        for (int n : new int[] {1, 37, 100}) {
            int rows = 7;
            Tensor x = rand(1, 3, rows, n);
            Tensor gamma = rand(2, 1, n);
            Tensor[] cpuOut = {Tensor.zeros(rows, n), Tensor.zeros(rows)};
            Tensor[] clOut = {Tensor.zeros(rows, n), Tensor.zeros(rows)};
            CPU.rmsNorm(x, gamma, 1e-6f, cpuOut[0], cpuOut[1]);
            cl.rmsNorm(x, gamma, 1e-6f, clOut[0], clOut[1]);
            assertClose("rmsnorm n=" + n, clOut[0], cpuOut[0], REDUCTION);
            assertClose("rstd", clOut[1], cpuOut[1], REDUCTION);
            Tensor dy = rand(4, 1, rows, n);
            Tensor init = rand(5, 1, n);
            Tensor[] cpuGrads = {Tensor.zeros(rows, n), init.copy()};
            Tensor[] clGrads = {Tensor.zeros(rows, n), init.copy()};
            CPU.rmsNormBackward(x, gamma, cpuOut[1], dy, cpuGrads[0], cpuGrads[1]);
            cl.rmsNormBackward(x, gamma, cpuOut[1], dy, clGrads[0], clGrads[1]);
            assertClose("rmsnorm dx n=" + n, clGrads[0], cpuGrads[0], REDUCTION);
            assertClose("rmsnorm dgamma (accumulated)", clGrads[1], cpuGrads[1], REDUCTION);
            Tensor dxOnly = Tensor.zeros(rows, n);
            cl.rmsNormBackward(x, gamma, cpuOut[1], dy, dxOnly, null);
            assertClose("rmsnorm dx without weight grad", dxOnly, cpuGrads[0], REDUCTION);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void embeddingGatherAndScatterAddOnAVocabShard(String mode) {
        OpenClBackend cl = backend(mode);
        int rows = 11;
        int d = 37;
        Tensor w = rand(1, 1, rows, d);
        IntTensor ids = IntTensor.of(new int[] {5, 6, 15, 4, 6, 16, 0, 10, 6}, 3, 3);
        Tensor want = Tensor.zeros(9, d);
        Tensor got = Tensor.zeros(9, d);
        CPU.embedding(ids, w, 5, want);
        cl.embedding(ids, w, 5, got);
        assertClose("embedding", got, want, ELEMENTWISE);
        Tensor g = rand(2, 1, 9, d);
        Tensor init = rand(3, 1, rows, d);
        Tensor gw = init.copy();
        Tensor gc = init.copy();
        CPU.embeddingBackward(ids, g, 5, gw);
        cl.embeddingBackward(ids, g, 5, gc);
        assertClose("embedding backward (repeated ids, accumulated)", gc, gw, ELEMENTWISE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void crossEntropyWithPaddingIgnoredRowsAndForeignTargets(String mode) {
        OpenClBackend cl = backend(mode);
        int v = 19;
        int valid = 17;
        Tensor logits = rand(1, 5, 6, v);
        IntTensor targets = IntTensor.of(new int[] {3, -100, 16, 0, 8, -100}, 6);
        Tensor[] want = {Tensor.zeros(6), Tensor.zeros(6)};
        Tensor[] got = {Tensor.zeros(6), Tensor.zeros(6)};
        CPU.crossEntropy(logits, targets, -100, valid, want[0], want[1]);
        cl.crossEntropy(logits, targets, -100, valid, got[0], got[1]);
        assertClose("losses", got[0], want[0], REDUCTION);
        assertClose("log-sum-exp", got[1], want[1], REDUCTION);
        // backward: a target another vocab shard owns (outside [0, valid)) subtracts nothing
        IntTensor foreign = IntTensor.of(new int[] {3, -100, 16, 25, 8, -7}, 6);
        Tensor gw = rand(9, 1, 6, v);
        Tensor gc = rand(9, 1, 6, v);
        CPU.crossEntropyBackward(logits, foreign, -100, valid, want[1], 0.25f, gw);
        cl.crossEntropyBackward(logits, foreign, -100, valid, want[1], 0.25f, gc);
        assertClose("cross-entropy backward", gc, gw, ELEMENTWISE);
        // in place, as a consuming loss runs it: the gradient written over the logits
        Tensor inPlace = logits.copy();
        cl.crossEntropyBackward(inPlace, foreign, -100, valid, want[1], 0.25f, inPlace);
        assertClose("cross-entropy backward in place", inPlace, gw, ELEMENTWISE);
        assertThatThrownBy(() -> cl.crossEntropy(logits, IntTensor.of(new int[] {1, 2, 3, 4, 17, 5}, 6), -100, valid,
                Tensor.zeros(6), Tensor.zeros(6))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target 17");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void dropoutAndBiasDropoutAddAreBitIdentical(String mode) {
        OpenClBackend cl = backend(mode);
        // a column shard's rows (runs of 7) at global indices past 2^32, so the high half of a start counts
        long[] starts = new long[3 * 143];
        for (int r = 0; r < starts.length; r++) {
            starts[r] = (1L << 33) + 14L * r + 7;
        }
        GlobalIndex shard = new GlobalIndex(7, starts);
        Tensor x = rand(3, 2f, 3, 143, 7);
        Tensor bias = rand(4, 1f, 7);
        Tensor residual = rand(5, 2f, 3, 143, 7);
        for (float p : new float[] {0f, 0.1f, 0.5f, 0.9f}) {
            for (GlobalIndex index : new GlobalIndex[] {GlobalIndex.whole(x.numel(), 0), shard}) {
                DropoutBits bits = DropoutBits.of(p, 1234567L);
                Tensor want = Tensor.zeros(x.shape());
                Tensor got = Tensor.zeros(x.shape());
                CPU.dropout(bits, index, x, want);
                cl.dropout(bits, index, x, got);
                assertThat(got.toFloatArray()).as("dropout p=%s %s", p, index).containsExactly(want.toFloatArray());
                for (Tensor b : new Tensor[] {bias, null}) {
                    CPU.biasDropoutAdd(x, b, residual, bits, index, want);
                    cl.biasDropoutAdd(x, b, residual, bits, index, got);
                    assertThat(got.toFloatArray()).as("bias_dropout_add p=%s %s bias %s", p, index, b != null)
                            .containsExactly(want.toFloatArray());
                    Tensor inPlace = x.copy(); // as a consuming bias_dropout_add runs it: the sum over x
                    cl.biasDropoutAdd(inPlace, b, residual, bits, index, inPlace);
                    assertThat(inPlace.toFloatArray()).as("bias_dropout_add in place p=%s %s bias %s", p, index, b != null)
                            .containsExactly(want.toFloatArray());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void adamWStepMatchesTheOptimizer(String mode) {
        OpenClBackend cl = backend(mode);
        Tensor p = rand(1, 1, 7, 33);
        Tensor bias = rand(2, 1, 33);
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("w.weight", p.copy());
        params.put("w.bias", bias.copy());
        AdamW reference = new AdamW(params, AdamW.Options.defaults(1e-2));
        Tensor pc = p.copy();
        Tensor m = Tensor.zeros(7, 33);
        Tensor v = Tensor.zeros(7, 33);
        for (int step = 1; step <= 3; step++) {
            Tensor g = rand(10 + step, 1, 7, 33);
            params.get("w.weight").setGrad(g.copy());
            params.get("w.bias").setGrad(rand(20 + step, 1, 33));
            try (var ignored = GradMode.disabled()) {
                reference.step();
            }
            cl.adamWStep(pc, g, m, v, OptimizerKernels.AdamWScalars.of(1e-2, 0.9, 0.999, 1e-8, 0.01, step));
            assertClose("adamw step " + step, pc, params.get("w.weight"), ELEMENTWISE);
            assertClose("exp_avg", m, reference.stateTensors().get("w.weight.exp_avg"), ELEMENTWISE);
            assertClose("exp_avg_sq", v, reference.stateTensors().get("w.weight.exp_avg_sq"), ELEMENTWISE);
        }
    }

    @Test
    void programIsBuiltOncePerDeviceAndReportsItsCost() {
        OpenClBackend cl = OpenClTesting.shared();
        assertThat(OpenClBackend.shared()).isSameAs(cl);
        assertThat(cl.programBuildMillis()).isPositive();
        assertThat(cl.name()).isEqualTo("opencl");
        assertThat(Backends.named("opencl", null)).isSameAs(cl);
    }
}

package io.colo4j.ops.kernel.opencl;

import static io.colo4j.ops.kernel.opencl.OpenClTesting.assertClose;
import static io.colo4j.ops.kernel.opencl.OpenClTesting.rand;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.ops.kernel.UnaryOp;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Residency and coherence: cpu and opencl ops mixed on the same tensors (and views of them) never see stale data,
 * in zero-copy mode and with separate device copies; device buffers are freed with their storage or scope.
 */
class OpenClResidencyTest {
    private static final KernelBackend CPU = Backends.cpu();

    static Stream<String> modes() {
        return Stream.of("zero-copy", "device-copies");
    }

    private static OpenClBackend backend(String mode) {
        return mode.equals("zero-copy") ? OpenClTesting.shared() : OpenClTesting.copyMode();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modes")
    void hostDeviceAndCpuKernelsAlwaysSeeTheLatestData(String mode) {
        OpenClBackend cl = backend(mode);
        Tensor x = rand(1, 2, 4, 6);
        Tensor y = Tensor.zeros(4, 6);
        cl.unary(UnaryOp.NEG, x, y);
        // host reads device results
        assertThat(y.get(2, 3)).isEqualTo(-x.get(2, 3));
        // device reads a host write made after the device last wrote
        y.set(5f, 0, 0);
        Tensor z = Tensor.zeros(4, 6);
        cl.unary(UnaryOp.NEG, y, z);
        assertThat(z.get(0, 0)).isEqualTo(-5f);
        assertThat(z.get(1, 1)).isEqualTo(x.get(1, 1));
        // a cpu kernel reads device results, then the device reads the cpu kernel's output
        Tensor w = Tensor.zeros(4, 6);
        CPU.binary(BinaryOp.ADD, z, z, w);
        assertThat(w.get(1, 1)).isEqualTo(2 * x.get(1, 1));
        Tensor v = Tensor.zeros(4, 6);
        cl.binary(BinaryOp.MUL, w, z, v);
        assertThat(v.get(3, 5)).isEqualTo(2 * x.get(3, 5) * x.get(3, 5));
        // the cpu backend writes into a tensor already resident on the device, which the device then reads
        CPU.unary(UnaryOp.EXP, x, z);
        cl.unary(UnaryOp.NEG, z, v);
        assertThat(v.get(2, 2)).isEqualTo(-(float) Math.exp(x.get(2, 2)));
        // fill and in-place host updates of a resident tensor
        v.fill(2f);
        v.addInPlace(Tensor.ones(4, 6));
        cl.unary(UnaryOp.NEG, v, z);
        assertThat(z.toFloatArray()).containsOnly(-3f);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modes")
    void viewsWithOffsetsShareOneBufferAndPartialWritesKeepTheRest(String mode) {
        OpenClBackend cl = backend(mode);
        Tensor big = rand(2, 1, 6, 5);
        float untouched = big.get(0, 0);
        Tensor rows = big.narrow(0, 2, 3);
        Tensor out = Tensor.zeros(6, 5);
        Tensor outRows = out.narrow(0, 1, 3);
        out.set(7f, 5, 4);
        cl.unary(UnaryOp.NEG, rows, outRows);
        assertThat(out.get(1, 0)).isEqualTo(-big.get(2, 0));
        assertThat(out.get(3, 4)).isEqualTo(-big.get(4, 4));
        assertThat(out.get(0, 0)).isZero();
        assertThat(out.get(5, 4)).isEqualTo(7f);
        assertThat(big.get(0, 0)).isEqualTo(untouched);
        // matmul into a view of a partly host-written storage
        Tensor c = Tensor.zeros(2, 4, 4);
        c.set(9f, 0, 0, 0);
        Tensor c1 = c.narrow(0, 1, 1).view(4, 4);
        Tensor a = rand(3, 1, 4, 3);
        Tensor b = rand(4, 1, 3, 4);
        Tensor want = Tensor.zeros(4, 4);
        CPU.matmul(a, b, want, 1f, 0f);
        cl.matmul(a, b, c1, 1f, 0f);
        assertClose("matmul into a view", c1, want, 1e-4);
        assertThat(c.get(0, 0, 0)).isEqualTo(9f);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modes")
    void operatorsMixedAcrossBackendsMatchAllCpu(String mode) {
        OpenClBackend cl = backend(mode);
        Tensor x = rand(5, 1, 3, 8);
        Tensor wt = rand(6, 1, 8, 8);
        Tensor cpuOnly;
        try (var ignored = Backends.use(CPU)) {
            cpuOnly = F.sum(F.gelu(F.matmul(F.gelu(F.matmul(x, wt)), wt)));
        }
        Tensor h;
        try (var ignored = Backends.use(cl)) {
            h = F.gelu(F.matmul(x, wt));
        }
        try (var ignored = Backends.use(CPU)) {
            h = F.matmul(h, wt);
        }
        Tensor mixed;
        try (var ignored = Backends.use(cl)) {
            mixed = F.sum(F.gelu(h));
        }
        assertThat(mixed.item()).isCloseTo(cpuOnly.item(), org.assertj.core.api.Assertions.within(1e-4f * Math.abs(cpuOnly.item())));
    }

    @Test
    void buffersAreFreedWithTheirScopeOrStorage() {
        OpenClTesting.shared();
        try (OpenClBackend cl = OpenClBackend.create(null, false)) {
            assertThat(cl.residentBuffers()).isZero();
            Tensor longLived = rand(1, 1, 16, 16);
            Tensor out = Tensor.zeros(16, 16);
            cl.unary(UnaryOp.RELU, longLived, out);
            assertThat(cl.residentBuffers()).isEqualTo(2);
            try (MemoryScope step = MemoryScope.open()) {
                Tensor a = Tensor.zeros(16, 16);
                Tensor b = Tensor.zeros(16, 16);
                cl.unary(UnaryOp.EXP, out, a);
                cl.binary(BinaryOp.ADD, a, out, b);
                assertThat(cl.residentBuffers()).isEqualTo(4);
                assertThat(cl.residentBytes()).isEqualTo(4L * 16 * 16 * Float.BYTES);
            }
            cl.releaseClosedScopes();
            assertThat(cl.residentBuffers()).isEqualTo(2);
            out.freeStorage();
            assertThat(cl.residentBuffers()).isEqualTo(1);
            longLived.freeStorage();
            assertThat(cl.residentBuffers()).isZero();
            // a tensor whose scope has closed is refused, not handed to the device
            Tensor dead;
            try (MemoryScope step = MemoryScope.open()) {
                dead = Tensor.zeros(4);
            }
            Tensor target = Tensor.zeros(4);
            assertThatThrownBy(() -> cl.unary(UnaryOp.NEG, dead, target)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void explicitBoundariesAndCopyModeTransfers() {
        OpenClBackend cl = OpenClTesting.copyMode();
        Tensor x = rand(7, 1, 32);
        cl.toDevice(x);
        Tensor y = Tensor.zeros(32);
        cl.unary(UnaryOp.NEG, x, y);
        cl.toHost(y);
        assertThat(y.get(3)).isEqualTo(-x.get(3));
        assertThat(cl.zeroCopy()).isFalse();
    }
}

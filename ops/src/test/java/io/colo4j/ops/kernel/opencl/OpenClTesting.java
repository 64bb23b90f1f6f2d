package io.colo4j.ops.kernel.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;

/** Shared helpers of the opencl tests: the backends under test and relative-error comparison with the cpu backend. */
final class OpenClTesting {
    private static OpenClBackend copyMode;

    private OpenClTesting() {}

    /**
     * The process-wide backend; fails (rather than skipping) when OpenCL is missing, since CI installs PoCL
     * through bin/install-deps. {@code -Dcolo4j.opencl.skip=true} turns the failure into a skipped test.
     */
    static OpenClBackend shared() {
        OpenCl.Availability a = OpenCl.discover();
        if (!a.available()) {
            if (Boolean.getBoolean("colo4j.opencl.skip")) {
                org.junit.jupiter.api.Assumptions.abort("OpenCL unavailable: " + a.message());
            }
            fail("OpenCL unavailable (" + a.message() + "); install pocl-opencl-icd (bin/install-deps) "
                    + "or run with -Dcolo4j.opencl.skip=true");
        }
        return OpenClBackend.shared();
    }

    private static OpenClBackend gpuStyle;

    /**
     * Everything a GPU gets, on the PoCL device: device copies, the tiled sgemm, and row kernels that split a row
     * over a 128-work-item group with local-memory reductions (VW 4).
     */
    static synchronized OpenClBackend gpuStyle() {
        shared();
        if (gpuStyle == null) {
            gpuStyle = OpenClBackend.create(null, true, true, true);
            assertThat(gpuStyle.buildOptions()).isEqualTo("-DVW=4 -DRW=128");
        }
        return gpuStyle;
    }

    /** A second backend on the same device that keeps real device copies: the residency protocol of a GPU. */
    static synchronized OpenClBackend copyMode() {
        shared();
        if (copyMode == null) {
            copyMode = OpenClBackend.create(null, true);
            assertThat(copyMode.zeroCopy()).isFalse();
        }
        return copyMode;
    }

    static Tensor rand(long seed, float range, int... shape) {
        return Tensor.init(Init.uniform(seed, -range, range), shape);
    }

    /** A broadcast view of {@code t} as {@code shape} (stride 0 on stretched dims), as the functional layer makes. */
    static Tensor expand(Tensor t, int... shape) {
        int[] from = t.shape();
        long[] strides = t.strides();
        int lead = shape.length - from.length;
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            int j = i - lead;
            s[i] = j < 0 || (from[j] == 1 && shape[i] != 1) ? 0 : strides[j];
        }
        return t.asStrided(shape, s, t.offset());
    }

    /** max |a - e| / max |e| (the error relative to the result's scale). */
    static double relativeError(Tensor actual, Tensor expected) {
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        assertThat(a).hasSameSizeAs(e);
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(e[i]));
            if (Float.isNaN(a[i]) != Float.isNaN(e[i])) {
                return Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, Math.abs(a[i] - e[i]));
        }
        return scale == 0 ? worst : worst / scale;
    }

    static void assertClose(String what, Tensor actual, Tensor expected, double rtol) {
        double err = relativeError(actual, expected);
        assertThat(err).as("%s: relative error %s", what, err).isLessThanOrEqualTo(rtol);
    }
}

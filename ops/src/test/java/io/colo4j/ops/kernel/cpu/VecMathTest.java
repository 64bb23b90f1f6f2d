package io.colo4j.ops.kernel.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class VecMathTest {
    @Test
    void expIsAccurateAndHandlesTheEdges() {
        double worst = 0;
        for (float x = -87f; x < 88.7f; x += 0.0137f) {
            double exact = Math.exp(x);
            worst = Math.max(worst, Math.abs(VecMath.exp(x) - exact) / exact);
        }
        assertThat(worst).isLessThan(3e-7);
        assertThat(VecMath.exp(0f)).isEqualTo(1f);
        assertThat(VecMath.exp(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(VecMath.exp(-200f)).isZero();
        assertThat(VecMath.exp(Float.POSITIVE_INFINITY)).isInfinite();
        assertThat(VecMath.exp(88.72f)).isFinite();
        assertThat(VecMath.exp(Float.NaN)).isNaN();
    }

    /**
     * exp skips the clamp and the float-to-int conversion; it must still give the clamped Cephes evaluation's bits (written
     * here with scalar IEEE ops) for every float: checked on a stride over all 2^32 patterns plus the range's edges
     * (all 2^32 agreed when the change was made).
     */
    @Test
    void expGivesTheClampedEvaluationsBitsForEveryKindOfFloat() {
        float[] lanes = new float[Vec.L];
        int mismatches = 0;
        String first = null;
        for (long bits = 0; bits < (1L << 32); bits += 4099L * Vec.L) {
            for (int k = 0; k < Vec.L; k++) {
                lanes[k] = Float.intBitsToFloat((int) (bits + 4099L * k));
            }
            if (bits == 0) {
                float[] edges = {88.72283905206835f, Math.nextUp(88.72283905206835f), -87.33654475f,
                        Math.nextDown(-87.33654475f), 88.38f, -0f, Float.NaN, Float.POSITIVE_INFINITY,
                        Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE};
                System.arraycopy(edges, 0, lanes, 0, Math.min(edges.length, Vec.L));
            }
            jdk.incubator.vector.FloatVector e = VecMath.exp(jdk.incubator.vector.FloatVector.fromArray(Vec.S, lanes, 0));
            for (int k = 0; k < Vec.L; k++) {
                if (Float.floatToIntBits(e.lane(k)) != Float.floatToIntBits(clampedCephesExp(lanes[k]))) {
                    mismatches++;
                    first = first == null ? "exp(" + lanes[k] + ") = " + e.lane(k) + " vs " + clampedCephesExp(lanes[k]) : first;
                }
            }
        }
        assertThat(mismatches).as(String.valueOf(first)).isZero();
    }

    /**
     * expShifted (one scale factor, no overflow lane) gives exp's bits below 88.37, where softmax and log-sum-exp call it,
     * and so does its scalar twin (a row's tail).
     */
    @Test
    void expShiftedGivesExpsBitsBelowItsBound() {
        float[] lanes = new float[Vec.L];
        int mismatches = 0;
        String first = null;
        for (long bits = 0; bits < (1L << 32); bits += 4099L * Vec.L) {
            for (int k = 0; k < Vec.L; k++) {
                float f = Float.intBitsToFloat((int) (bits + 4099L * k));
                lanes[k] = f < 88.37f || Float.isNaN(f) ? f : -f;
            }
            if (bits == 0) {
                float[] edges = {88.37f, Math.nextDown(88.37f), -87.33654475f, Math.nextDown(-87.33654475f), -0f, 0f,
                        Float.NaN, Float.NEGATIVE_INFINITY, -Float.MIN_VALUE, -Float.MAX_VALUE, -87.336f, -86f};
                System.arraycopy(edges, 0, lanes, 0, Math.min(edges.length, Vec.L));
            }
            jdk.incubator.vector.FloatVector v = jdk.incubator.vector.FloatVector.fromArray(Vec.S, lanes, 0);
            jdk.incubator.vector.FloatVector shifted = VecMath.expShifted(v);
            jdk.incubator.vector.FloatVector full = VecMath.exp(v);
            for (int k = 0; k < Vec.L; k++) {
                if (Float.floatToIntBits(shifted.lane(k)) != Float.floatToIntBits(full.lane(k))) {
                    mismatches++;
                    first = first == null ? "at " + lanes[k] + ": " + shifted.lane(k) + " vs " + full.lane(k) : first;
                }
                float scalar = VecMath.expShifted(lanes[k]);
                if (Float.floatToIntBits(scalar) != Float.floatToIntBits(full.lane(k))) {
                    mismatches++;
                    first = first == null ? "scalar at " + lanes[k] + ": " + scalar + " vs " + full.lane(k) : first;
                }
            }
        }
        assertThat(mismatches).as(String.valueOf(first)).isZero();
    }

    /**
     * The reference: clamp, n by a float-to-int conversion, the same polynomial (Cephes' coefficients in Estrin's
     * order) and two scale factors.
     */
    private static float clampedCephesExp(float x) {
        float max = 88.72283905206835f;
        float min = -87.33654475f;
        float c = Math.min(Math.max(x, min), max);
        float n = Math.fma(c, 1.44269504088896341f, 12582912f) - 12582912f;
        float r = Math.fma(n, -0.693359375f, c);
        r = Math.fma(n, 2.12194440e-4f, r);
        float r2 = r * r;
        float p = Math.fma(Math.fma(Math.fma(1.9875691500e-4f, r, 1.3981999507e-3f), r2,
                Math.fma(8.3334519073e-3f, r, 4.1665795894e-2f)), r2, Math.fma(1.6666665459e-1f, r, 5.0000001201e-1f));
        p = Math.fma(p, r2, r) + 1f;
        int ni = (int) n;
        int half = ni >> 1;
        float result = p * Float.intBitsToFloat((half + 127) << 23) * Float.intBitsToFloat((ni - half + 127) << 23);
        return x > max ? Float.POSITIVE_INFINITY : x < min ? 0f : result;
    }

    @Test
    void tanhIsAccurateAndSaturates() {
        for (float x = -20f; x < 20f; x += 0.01f) {
            float t = VecMath.tanh(jdk.incubator.vector.FloatVector.broadcast(Vec.S, x)).lane(0);
            assertThat((double) t).isCloseTo(Math.tanh(x), org.assertj.core.api.Assertions.within(2e-7));
        }
        assertThat(VecMath.tanh(jdk.incubator.vector.FloatVector.broadcast(Vec.S, 1e5f)).lane(0)).isEqualTo(1f);
        assertThat(VecMath.tanh(jdk.incubator.vector.FloatVector.broadcast(Vec.S, -1e5f)).lane(0)).isEqualTo(-1f);
    }

    /** Prints the bits of a few kernel results; run in the interpreter and compiled, they must agree. */
    public static void main(String[] args) {
        StringBuilder sb = new StringBuilder();
        Tensor x = Tensor.init(Init.uniform(3, -3, 3), 3, 67);
        for (Tensor t : List.of(F.softmax(x, -1), F.gelu(x), F.silu(x),
                F.layerNorm(x, Tensor.ones(67), Tensor.zeros(67), 1e-5f),
                F.crossEntropy(x, IntTensor.of(new int[] {1, 5, 66}, 3)))) {
            for (float v : t.toFloatArray()) {
                sb.append(Integer.toHexString(Float.floatToRawIntBits(v))).append(' ');
            }
            sb.append('\n');
        }
        System.out.print(sb);
    }

    @Test
    void kernelsGiveTheSameBitsInterpretedAndCompiled() throws Exception {
        String interpreted = runMain("-Xint");
        assertThat(interpreted.lines().count()).isEqualTo(5);
        assertThat(interpreted).isEqualTo(runMain("-Xcomp", "-XX:-TieredCompilation"));
    }

    private static String runMain(String... mode) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(List.of(mode));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", classpath, VecMathTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }
}

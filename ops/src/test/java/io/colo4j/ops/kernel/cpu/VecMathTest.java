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

package io.colo4j.ops.kernel.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No OpenCL platform (simulated with OCL_ICD_VENDORS pointing at an empty directory, in a forked JVM so this
 * process keeps its own): auto falls back to cpu with a message, opencl fails with a clear error, nothing crashes.
 */
class OpenClUnavailableTest {
    @Test
    void autoFallsBackToCpuAndOpenClFailsClearly(@TempDir Path emptyVendors) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                OpenClUnavailableMain.class.getName());
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        pb.environment().remove("OPENCL_VENDOR_PATH");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        List<String> lines = text.lines().toList();
        assertThat(lines).as(text).anyMatch(l -> l.startsWith("discover: no usable OpenCL platform (CL_PLATFORM_NOT_FOUND_KHR"));
        assertThat(lines).as(text).anyMatch(l -> l.startsWith("auto: no usable OpenCL platform") && l.endsWith("using the cpu backend"));
        assertThat(lines).as(text).contains("auto picked: cpu");
        assertThat(lines).as(text).anyMatch(l -> l.startsWith("opencl error: opencl backend unavailable: no usable OpenCL platform"));
        assertThat(lines).as(text).contains("done");
        assertThat(Files.list(emptyVendors)).isEmpty();
    }
}

package io.colo4j.ops.kernel.opencl;

import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.io.PrintStream;
import java.util.Locale;

/**
 * {@code --backend auto}: OpenCL only when a device is present, its program builds, and a quick sgemm probe runs
 * faster there than on the cpu backend. Decided once per process; every step is explained on {@code log}.
 */
public final class AutoSelection {
    /** The size of the square sgemm probe. */
    static final int PROBE_SIZE = 384;

    private static volatile KernelBackend decided;
    private static volatile String reason;

    private AutoSelection() {}

    /** The backend auto picks (cached after the first call), explaining the choice on {@code log} (may be null). */
    public static synchronized KernelBackend choose(KernelBackend cpu, PrintStream log) {
        if (decided != null) {
            say(log, reason);
            return decided;
        }
        KernelBackend pick = cpu;
        String why;
        OpenCl.Availability a = OpenCl.discover();
        if (!a.available()) {
            why = "auto: " + a.message() + "; using the cpu backend";
        } else {
            try {
                OpenClBackend cl = OpenClBackend.shared();
                double clMs = probe(cl);
                double cpuMs = probe(cpu);
                double clG = 2.0 * PROBE_SIZE * PROBE_SIZE * PROBE_SIZE / (clMs * 1e6);
                double cpuG = 2.0 * PROBE_SIZE * PROBE_SIZE * PROBE_SIZE / (cpuMs * 1e6);
                boolean faster = clMs < cpuMs;
                pick = faster ? cl : cpu;
                why = String.format(Locale.ROOT, "auto: sgemm %d^3 probe: opencl (%s) %.1f GFLOP/s, cpu %.1f GFLOP/s; using %s",
                        PROBE_SIZE, cl.deviceName(), clG, cpuG, pick.name());
            } catch (RuntimeException | LinkageError e) {
                why = "auto: OpenCL device present but unusable (" + e.getMessage() + "); using the cpu backend";
            }
        }
        decided = pick;
        reason = why;
        say(log, why);
        return pick;
    }

    private static void say(PrintStream log, String msg) {
        if (log != null && msg != null) {
            log.println(msg);
        }
    }

    /**
     * Best milliseconds of three square matmuls, after warming up until three calls in a row agree within 10% (the cpu
     * kernel is ~100x slower before C2 has compiled it) or 1.5 s have passed.
     */
    static double probe(KernelBackend b) {
        int n = PROBE_SIZE;
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor x = Tensor.init(Init.uniform(11, -1, 1), n, n);
            Tensor y = Tensor.init(Init.uniform(12, -1, 1), n, n);
            Tensor z = Tensor.zeros(n, n);
            long end = System.nanoTime() + 1_500_000_000L;
            double[] last = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
            for (int i = 0; System.nanoTime() < end; i++) {
                long t0 = System.nanoTime();
                b.matmul(x, y, z, 1f, 0f);
                last[i % 3] = (System.nanoTime() - t0) / 1e6;
                double lo = Math.min(last[0], Math.min(last[1], last[2]));
                double hi = Math.max(last[0], Math.max(last[1], last[2]));
                if (hi < 1.1 * lo) {
                    break;
                }
            }
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                b.matmul(x, y, z, 1f, 0f);
                best = Math.min(best, (System.nanoTime() - t0) / 1e6);
            }
            return best;
        }
    }
}

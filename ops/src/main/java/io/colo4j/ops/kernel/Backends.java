package io.colo4j.ops.kernel;

import io.colo4j.ops.kernel.cpu.CpuBackend;
import io.colo4j.ops.kernel.opencl.AutoSelection;
import io.colo4j.ops.kernel.opencl.OpenClBackend;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;

/**
 * Which backend operators run on: one process-wide default, overridable per thread (per rank).
 *
 * <p>Backends by name ({@link #named}): {@code cpu} (the default), {@code opencl} (OpenCL kernels compiled by the
 * device's driver; throws {@code OpenClUnavailableException} with the reason when no platform or device is usable)
 * and {@code auto} (opencl only when a device is present and a quick sgemm probe runs faster there, else cpu).
 * {@code -Dcolo4j.backend=...} chooses the process default at startup.
 */
public final class Backends {
    private static final KernelBackend CPU = new CpuBackend();
    private static volatile KernelBackend defaultBackend = initialDefault();
    private static final ThreadLocal<KernelBackend> OVERRIDE = new ThreadLocal<>();

    private Backends() {}

    /** -Dcolo4j.backend, else cpu; a backend that cannot start here is reported and cpu used (never a failed class init). */
    private static KernelBackend initialDefault() {
        String name = System.getProperty("colo4j.backend");
        if (name == null || name.isBlank()) {
            return CPU;
        }
        try {
            return named(name, System.err);
        } catch (RuntimeException e) {
            System.err.println("colo4j: -Dcolo4j.backend=" + name + " is unavailable (" + e.getMessage() + "); using cpu");
            return CPU;
        }
    }

    public static KernelBackend current() {
        KernelBackend local = OVERRIDE.get();
        return local != null ? local : defaultBackend;
    }

    public static void setDefault(KernelBackend backend) {
        defaultBackend = Objects.requireNonNull(backend);
    }

    /** The process default (ignoring any per-thread override). */
    public static KernelBackend getDefault() {
        return defaultBackend;
    }

    /** The shared cpu backend. */
    public static KernelBackend cpu() {
        return CPU;
    }

    /**
     * The backend called {@code name}: cpu, opencl or auto (case-insensitive). auto explains its choice on
     * {@code log} (null for silence); opencl fails with a clear message when OpenCL cannot run here.
     */
    public static KernelBackend named(String name, PrintStream log) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "opencl" -> OpenClBackend.shared();
            case "auto" -> AutoSelection.choose(CPU, log);
            default -> throw new IllegalArgumentException("unknown backend '" + name + "': use cpu, opencl or auto");
        };
    }

    /** {@code try (var ignored = Backends.use(b)) { ... }} on this thread only. */
    public static AutoCloseableNoThrow use(KernelBackend backend) {
        KernelBackend previous = OVERRIDE.get();
        OVERRIDE.set(Objects.requireNonNull(backend));
        return () -> OVERRIDE.set(previous);
    }

    @FunctionalInterface
    public interface AutoCloseableNoThrow extends AutoCloseable {
        @Override
        void close();
    }
}

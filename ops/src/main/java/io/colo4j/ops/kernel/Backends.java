package io.colo4j.ops.kernel;

import io.colo4j.ops.kernel.cpu.CpuBackend;
import java.util.Objects;

/** Which backend operators run on: one process-wide default, overridable per thread (per rank). */
public final class Backends {
    private static volatile KernelBackend defaultBackend = new CpuBackend();
    private static final ThreadLocal<KernelBackend> OVERRIDE = new ThreadLocal<>();

    private Backends() {}

    public static KernelBackend current() {
        KernelBackend local = OVERRIDE.get();
        return local != null ? local : defaultBackend;
    }

    public static void setDefault(KernelBackend backend) {
        defaultBackend = Objects.requireNonNull(backend);
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

package io.colo4j.cli;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;
import picocli.CommandLine.Option;

/**
 * {@code --backend cpu|opencl|auto} for any command: add {@code @Mixin BackendOption backend;} to the command and
 * call {@link #apply()} first thing in {@code call()}.
 *
 * <ul>
 *   <li>{@code cpu} (default): the Vector API kernels.</li>
 *   <li>{@code opencl}: OpenCL C kernels compiled at run time by the device's driver (PoCL on a CPU, or a GPU);
 *       fails with a clear message when no OpenCL platform or device is usable.</li>
 *   <li>{@code auto}: opencl when a device is present and a quick sgemm probe is faster there, else cpu; the choice
 *       and its reason are printed on stderr.</li>
 * </ul>
 * The default can also come from {@code -Dcolo4j.backend=...} (e.g. through COLO4J_JAVA_OPTS).
 */
public final class BackendOption {
    @Option(names = "--backend", paramLabel = "cpu|opencl|auto", defaultValue = "${sys:colo4j.backend:-cpu}",
            description = "Kernel backend: cpu, opencl (OpenCL kernels; error if no device) or auto "
                    + "(opencl only when present and faster on an sgemm probe). Default: ${DEFAULT-VALUE}.")
    String backend = "cpu";

    /** The backend name as given. */
    public String name() {
        return backend;
    }

    /** Resolves the backend and makes it the process default; returns it. */
    public KernelBackend apply() {
        KernelBackend b = Backends.named(backend, System.err);
        Backends.setDefault(b);
        return b;
    }
}

package io.colo4j.ops.kernel.opencl;

import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;

/** Run by {@link OpenClUnavailableTest} in a JVM that sees no OpenCL platform: prints what each selection does. */
public final class OpenClUnavailableMain {
    private OpenClUnavailableMain() {}

    public static void main(String[] args) {
        System.out.println("discover: " + OpenCl.discover().message());
        KernelBackend auto = Backends.named("auto", System.out);
        System.out.println("auto picked: " + auto.name());
        try {
            KernelBackend cl = Backends.named("opencl", System.out);
            System.out.println("opencl picked: " + cl.name());
        } catch (OpenClUnavailableException e) {
            System.out.println("opencl error: " + e.getMessage());
        }
        System.out.println("done");
    }
}

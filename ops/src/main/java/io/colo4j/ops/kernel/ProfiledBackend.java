package io.colo4j.ops.kernel;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.profile.StepProfile;
import io.colo4j.tensor.profile.TimingProxy;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A kernel backend that times every kernel as a {@link StepProfile} section and forwards it to the backend it
 * wraps: {@code gemm} for {@link KernelBackend#matmul} (with its FLOPs, 2 m n k per product, as the section's work),
 * {@code kernel <method>} for every other kernel. A {@link TimingProxy} over every interface the wrapped backend
 * implements, so kernels added to {@link KernelBackend} later, and extra capabilities such as
 * {@code OptimizerKernels}, are forwarded without code here and never fall back to an interface default. Install it
 * per rank thread with {@link Backends#use}; nothing changes when profiling is off.
 */
public final class ProfiledBackend {
    /** The section of sgemm; the FLOPs it computes are its work. */
    public static final int GEMM = StepProfile.section("gemm");
    /**
     * The section of the fused attention kernels ({@link AttentionKernels}); their work is the FLOPs of the products
     * they stand for (q k^T and P v forward, four products backward, as the composed path computes them and the
     * model-FLOPs formula counts them), not what the kernel computes (it skips the causal mask's half, recomputes q k^T).
     */
    public static final int ATTENTION = StepProfile.section("attention");

    private ProfiledBackend() {}

    /** {@code backend} with its kernels timed. */
    public static KernelBackend wrap(KernelBackend backend) {
        if (TimingProxy.isTiming(backend)) {
            return backend;
        }
        Set<Class<?>> interfaces = new LinkedHashSet<>(List.of(KernelBackend.class));
        for (Class<?> c = backend.getClass(); c != null; c = c.getSuperclass()) {
            interfaces.addAll(List.of(c.getInterfaces()));
        }
        return (KernelBackend) TimingProxy.wrap(backend, interfaces.toArray(Class<?>[]::new), m -> switch (m.getName()) {
            case "name", "close" -> -1;
            case "matmul" -> GEMM;
            case "attention", "attentionBackward" -> ATTENTION;
            default -> StepProfile.section("kernel " + m.getName());
        }, (m, args, result) -> {
            if (m.getName().equals("matmul")) {
                StepProfile.addWork(GEMM, matmulFlops((Tensor) args[0], (Tensor) args[2]));
            } else if (m.getName().startsWith("attention")) {
                StepProfile.addWork(ATTENTION, attentionFlops((Tensor) args[0], (Tensor) args[1], (Tensor) args[2],
                        m.getName().equals("attentionBackward")));
            }
            return result;
        });
    }

    /** FLOPs of attention's products: q k^T and P v forward; dO v^T, dV, dQ and dK backward. */
    static long attentionFlops(Tensor q, Tensor k, Tensor v, boolean backward) {
        long pairs = (long) q.size(0) * q.size(1) * q.size(2) * k.size(2);
        long forward = 2 * pairs * (q.size(3) + v.size(3));
        return backward ? 2 * forward : forward;
    }

    /** FLOPs of {@code out = a @ b} over the batch: 2 x (elements of out) x the contracted size. */
    static long matmulFlops(Tensor a, Tensor out) {
        return 2L * out.numel() * a.size(-1);
    }
}

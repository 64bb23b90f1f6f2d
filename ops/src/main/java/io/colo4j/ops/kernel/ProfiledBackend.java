package io.colo4j.ops.kernel;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.profile.StepProfile;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A kernel backend that times every kernel as a {@link StepProfile} section and forwards it to the backend it
 * wraps: {@code gemm} for {@link KernelBackend#matmul} (with its FLOPs, 2 m n k per product, as the section's work),
 * {@code kernel <method>} for every other kernel. A proxy over every interface the wrapped backend implements, so
 * kernels added to {@link KernelBackend} later, and extra capabilities such as {@code OptimizerKernels}, are
 * forwarded without code here and never fall back to an interface default. Install it per rank thread with
 * {@link Backends#use}; nothing changes when profiling is off.
 */
public final class ProfiledBackend {
    /** The section of sgemm; the FLOPs it computes are its work. */
    public static final int GEMM = StepProfile.section("gemm");

    private ProfiledBackend() {}

    /** {@code backend} with its kernels timed. */
    public static KernelBackend wrap(KernelBackend backend) {
        if (Proxy.isProxyClass(backend.getClass()) && Proxy.getInvocationHandler(backend) instanceof Timing) {
            return backend;
        }
        Set<Class<?>> interfaces = new LinkedHashSet<>();
        for (Class<?> c = backend.getClass(); c != null; c = c.getSuperclass()) {
            interfaces.addAll(java.util.List.of(c.getInterfaces()));
        }
        return (KernelBackend) Proxy.newProxyInstance(KernelBackend.class.getClassLoader(), interfaces.toArray(Class<?>[]::new),
                new Timing(backend, new ConcurrentHashMap<>()));
    }

    /** FLOPs of {@code out = a @ b} over the batch: 2 x (elements of out) x the contracted size. */
    static long matmulFlops(Tensor a, Tensor out) {
        return 2L * out.numel() * a.size(-1);
    }

    private record Timing(KernelBackend target, Map<Method, Integer> sections) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> "profiled " + target;
                };
            }
            if (method.getName().equals("name") || method.getName().equals("close")) {
                return forward(method, args);
            }
            boolean gemm = method.getName().equals("matmul") && method.getDeclaringClass() == KernelBackend.class;
            int section = gemm ? GEMM : sections.computeIfAbsent(method, m -> StepProfile.section("kernel " + m.getName()));
            int token = StepProfile.enter(section);
            try {
                return forward(method, args);
            } finally {
                StepProfile.exit(token);
                if (gemm) {
                    StepProfile.addWork(GEMM, matmulFlops((Tensor) args[0], (Tensor) args[2]));
                }
            }
        }

        private Object forward(Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }
}

package io.colo4j.zoo.sizing;

import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.tensor.Tensor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The kernels a sizing proxy's steps run ({@link StepTrace#runProxies}): the rank's own, except that a matrix product
 * is not computed but written as what it is. A proxy is built without values ({@code InitContext.openWithoutValues}):
 * every parameter is zero, so every activation a product reads is zero too (embeddings, norms, attention and residuals
 * of zeros are zeros) and every product {@code alpha a b + beta out} is {@code beta out}, or zeros when beta is 0. Its
 * outputs are allocated and written as before, so a step's memory and collectives are those of the computed step,
 * while a wide proxy's multiply-adds (7B-wide Llama layers: most of {@code plan --fit}'s time) are skipped.
 *
 * <p>A dynamic proxy over every interface the wrapped backend implements, so kernels added later and extra
 * capabilities ({@code AttentionKernels}) are forwarded unchanged. Only for models whose parameters are all zero.
 */
final class ProxyKernels {
    private ProxyKernels() {}

    /** {@code backend}, with its products of zeros written without computing them. */
    static KernelBackend of(KernelBackend backend) {
        Set<Class<?>> interfaces = new LinkedHashSet<>(List.of(KernelBackend.class));
        for (Class<?> c = backend.getClass(); c != null; c = c.getSuperclass()) {
            interfaces.addAll(List.of(c.getInterfaces()));
        }
        return (KernelBackend) Proxy.newProxyInstance(KernelBackend.class.getClassLoader(), interfaces.toArray(Class<?>[]::new),
                new ZeroProducts(backend));
    }

    private record ZeroProducts(KernelBackend target) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                // a backend is compared by identity
                String name = method.getName();
                return name.equals("equals") ? (Object) (proxy == args[0])
                        : name.equals("hashCode") ? (Object) System.identityHashCode(proxy) : "zero products over " + target;
            }
            if (method.getName().equals("matmul") && args.length == 5 && args[2] instanceof Tensor out && out.isContiguous()) {
                productOfZeros(out, (Float) args[4]);
                return null;
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        /** {@code out = alpha a b + beta out} for a and b of zeros: beta out, and zeros when beta is 0 (out is then not read). */
        private static void productOfZeros(Tensor out, float beta) {
            if (beta == 0) {
                out.data().fill((byte) 0);
            } else if (beta != 1) {
                out.scaleInPlace(beta);
            }
        }
    }
}

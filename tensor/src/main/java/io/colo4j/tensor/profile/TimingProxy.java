package io.colo4j.tensor.profile;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A decorator that times each call of an interface as a {@link StepProfile} section and forwards it to the object
 * it wraps. A proxy, so methods the interfaces have or gain later are forwarded without code (default methods
 * included: they reach the target's own version, never run on the decorator).
 */
public final class TimingProxy {
    /** The section a method's calls are timed in, or -1 to forward them untimed. Asked once per method. */
    @FunctionalInterface
    public interface Sections {
        int of(Method method);
    }

    /** What the decorator returns for a call: the target's result, or something made from it. */
    @FunctionalInterface
    public interface After {
        Object apply(Method method, Object[] args, Object result);
    }

    private TimingProxy() {}

    /** {@code target} behind {@code interfaces}, each call timed in its section and its result passed through {@code after}. */
    public static Object wrap(Object target, Class<?>[] interfaces, Sections sections, After after) {
        return Proxy.newProxyInstance(interfaces[0].getClassLoader(), interfaces, new Timing(target, sections, after, new ConcurrentHashMap<>()));
    }

    /** Whether {@code o} is already such a decorator. */
    public static boolean isTiming(Object o) {
        return Proxy.isProxyClass(o.getClass()) && Proxy.getInvocationHandler(o) instanceof Timing;
    }

    private record Timing(Object target, Sections sections, After after, Map<Method, Integer> ids) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> "timed " + target;
                };
            }
            int token = StepProfile.enter(ids.computeIfAbsent(method, sections::of));
            try {
                return after.apply(method, args, method.invoke(target, args));
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                StepProfile.exit(token);
            }
        }
    }
}

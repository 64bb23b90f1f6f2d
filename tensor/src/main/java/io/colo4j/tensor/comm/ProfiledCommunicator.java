package io.colo4j.tensor.comm;

import io.colo4j.tensor.profile.StepProfile;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;

/**
 * A communicator that times each collective as a {@link StepProfile} section ({@code collective <name>}: waiting
 * for the other ranks plus moving the data) and forwards everything to the one it wraps. A proxy, so every method
 * the interface has or gains is forwarded without code here; sub-communicators from {@code split} are wrapped too.
 */
public final class ProfiledCommunicator {
    /** Calls that are not collectives: forwarded untimed. */
    private static final Set<String> UNTIMED = Set.of("rank", "size", "backend", "timeout", "close", "split");

    private ProfiledCommunicator() {}

    /** {@code comm}, with its collectives timed. */
    public static Communicator wrap(Communicator comm) {
        if (Proxy.isProxyClass(comm.getClass()) && Proxy.getInvocationHandler(comm) instanceof Timing) {
            return comm;
        }
        return (Communicator) Proxy.newProxyInstance(Communicator.class.getClassLoader(), new Class<?>[] {Communicator.class},
                new Timing(comm));
    }

    private record Timing(Communicator target) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> "profiled " + target;
                };
            }
            boolean timed = !UNTIMED.contains(method.getName());
            int token = timed ? StepProfile.enter(StepProfile.section("collective " + method.getName())) : -1;
            try {
                Object result = method.invoke(target, args);
                return method.getName().equals("split") ? wrap((Communicator) result) : result;
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                StepProfile.exit(token);
            }
        }
    }
}

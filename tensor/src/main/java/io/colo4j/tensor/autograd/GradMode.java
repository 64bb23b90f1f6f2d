package io.colo4j.tensor.autograd;

/** Per-thread switch for graph recording, as torch.no_grad(). */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {}

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** {@code try (var ignored = GradMode.disabled()) { ... }} records nothing inside. */
    public static Guard disabled() {
        return set(false);
    }

    public static Guard enabled() {
        return set(true);
    }

    private static Guard set(boolean value) {
        boolean[] flag = ENABLED.get();
        boolean previous = flag[0];
        flag[0] = value;
        return () -> flag[0] = previous;
    }

    /** Restores the previous mode on close. */
    @FunctionalInterface
    public interface Guard extends AutoCloseable {
        @Override
        void close();
    }
}

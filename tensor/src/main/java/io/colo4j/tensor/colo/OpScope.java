package io.colo4j.tensor.colo;

/**
 * The op and module on whose behalf collectives run on this thread, so the trace can name them.
 * The dispatcher opens one per dispatched op; backward conversions keep the labels of their forward.
 */
public final class OpScope implements AutoCloseable {
    private static final ThreadLocal<OpScope> CURRENT = new ThreadLocal<>();

    private final String op;
    private final String module;
    private final OpScope previous;

    private OpScope(String op, String module, OpScope previous) {
        this.op = op;
        this.module = module;
        this.previous = previous;
    }

    public static OpScope enter(String op, String module) {
        OpScope scope = new OpScope(op, module, CURRENT.get());
        CURRENT.set(scope);
        return scope;
    }

    public static String currentOp() {
        OpScope s = CURRENT.get();
        return s == null ? "redistribute" : s.op;
    }

    public static String currentModule() {
        OpScope s = CURRENT.get();
        return s == null ? "" : s.module;
    }

    @Override
    public void close() {
        CURRENT.set(previous);
    }
}

package io.colo4j.tensor.nn;

/**
 * Where the parameters of a model built on this thread come from, while one is open (innermost wins):
 * a new {@link Parameter} then allocates nothing, and the {@link Module} that registers it keeps what
 * {@link #adopt} makes of it instead. The colo package's {@code InitContext} is one: it makes each
 * parameter a lazy one that materialises only this rank's shard. nn asks; it never knows what it gets.
 */
public abstract class ParameterFactory implements AutoCloseable {
    private static final ThreadLocal<ParameterFactory> CURRENT = new ThreadLocal<>();

    private final ParameterFactory previous;

    /** Opens this factory on the calling thread until {@link #close}. */
    protected ParameterFactory() {
        this.previous = CURRENT.get();
        CURRENT.set(this);
    }

    /** The innermost factory open on this thread, or null: parameters are then allocated and kept as made. */
    public static ParameterFactory current() {
        return CURRENT.get();
    }

    /** What a module keeps for a plain {@link Parameter} (one not yet allocated) registered while this is open. */
    public abstract Parameter adopt(Parameter plain);

    /** Ends parameter creation on this thread; the factory that was open before is current again. */
    @Override
    public void close() {
        if (CURRENT.get() == this) {
            CURRENT.set(previous);
        }
    }
}

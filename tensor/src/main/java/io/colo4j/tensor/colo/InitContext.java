package io.colo4j.tensor.colo;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.RankView;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.nn.Parameter;

/**
 * ColossalAI's ColoInitContext: a serial model built inside it gets {@link ColoParameter}s on this
 * rank's group, created lazily so that applying a spec materialises only the rank's shard and a model
 * larger than one rank's memory can be built. One per rank thread (or process).
 *
 * <pre>{@code
 * try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), world, "cpu")) {
 *     model = new Gpt2(config);
 * }
 * }</pre>
 */
public final class InitContext implements AutoCloseable {
    private static final ThreadLocal<InitContext> CURRENT = new ThreadLocal<>();

    private final DistContext context;
    private final InitContext previous;
    private final boolean ownsCommunicators;

    private InitContext(DistContext context, boolean ownsCommunicators) {
        this.context = context;
        this.ownsCommunicators = ownsCommunicators;
        this.previous = CURRENT.get();
        CURRENT.set(this);
    }

    /**
     * Splits {@code world} into this rank's tp and dp groups (Megatron's layout: global rank =
     * dpRank * tp + tpRank) and opens a context on them.
     */
    public static InitContext open(ProcessGroup group, Communicator world, String device) {
        ProcessGroup checked = ProcessGroup.of(group.tpDegree(), group.dpDegree(), world.size());
        RankView view = checked.forRank(world.rank());
        Communicator tp = world.split(view.dpRank(), view.tpRank());
        Communicator dp = world.split(view.tpRank(), view.dpRank());
        return new InitContext(new DistContext(view, tp, dp, device), false);
    }

    /** A context on an existing rank context (e.g. to build a second model on the same groups). */
    public static InitContext open(DistContext context) {
        return new InitContext(context, false);
    }

    /** The innermost open context on this thread, or null. */
    public static InitContext current() {
        return CURRENT.get();
    }

    public DistContext context() {
        return context;
    }

    /** The lazy ColoParameter that replaces a plain one registered inside this context. */
    public ColoParameter adopt(Parameter plain) {
        return new ColoParameter(plain.init(), plain.fullShape(), context);
    }

    /** Ends parameter creation; the groups stay usable through {@link #context()}. */
    @Override
    public void close() {
        if (CURRENT.get() == this) {
            CURRENT.set(previous);
        }
        if (ownsCommunicators) {
            context.tp().close();
        }
    }
}

package io.colo4j.tensor.colo;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.RankView;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.ParameterFactory;

/**
 * ColossalAI's ColoInitContext: a serial model built inside it gets {@link ColoParameter}s on this
 * rank's group, created lazily so that applying a spec materialises only the rank's shard and a model
 * larger than one rank's memory can be built. One per rank thread (or process). For example, on each
 * rank (the model is model-zoo's GPT-2, the rules its {@code gpt2.rules.json}):
 *
 * <pre>{@code
 * Module model;
 * try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), world, "cpu")) {
 *     model = new Gpt2Model(config, seed);   // lazy ColoParameters: nothing allocated yet
 * }
 * rules.apply(model);                          // each parameter materialises only this rank's shard
 * }</pre>
 */
public final class InitContext extends ParameterFactory {
    private final DistContext context;
    private final boolean values;

    private InitContext(DistContext context) {
        this(context, true);
    }

    private InitContext(DistContext context, boolean values) {
        this.context = context;
        this.values = values;
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
        return new InitContext(new DistContext(view, tp, dp, device));
    }

    /** A context on an existing rank context (e.g. to build a second model on the same groups). */
    public static InitContext open(DistContext context) {
        return new InitContext(context);
    }

    /**
     * As {@link #open(ProcessGroup, Communicator, String)} for a model whose parameter values nothing reads (a sizing
     * proxy: only its shapes, memory and collectives matter): every parameter is zeros, which costs no per-element
     * initializer work (a normal draw is most of what building a wide proxy costs) and, being the zero-filled memory it
     * is allocated as ({@link AllocatedZeros}), no write at all.
     */
    public static InitContext openWithoutValues(ProcessGroup group, Communicator world, String device) {
        try (InitContext shaped = open(group, world, device)) {
            return new InitContext(shaped.context, false);
        }
    }

    /** The innermost open context on this thread, or null. */
    public static InitContext current() {
        return ParameterFactory.current() instanceof InitContext c ? c : null;
    }

    public DistContext context() {
        return context;
    }

    /** The lazy ColoParameter that replaces a plain one registered inside this context. */
    @Override
    public ColoParameter adopt(Parameter plain) {
        return new ColoParameter(values ? plain.init() : AllocatedZeros.INSTANCE, plain.fullShape(), context);
    }
}

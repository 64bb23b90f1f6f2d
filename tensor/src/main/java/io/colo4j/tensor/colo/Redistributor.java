package io.colo4j.tensor.colo;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.spec.placement.Redistribution;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.spec.placement.ShardedDim;
import io.colo4j.spec.placement.TensorParallelMapping;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.comm.Communicator;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a planned change of spec on a ColoTensor's local data and records it for autograd, with the
 * conjugate collective as its backward (Megatron's mappings, from {@link TensorParallelMapping}).
 * The one place where the runtime, not a model, issues collectives.
 */
public final class Redistributor {
    private Redistributor() {}

    /** The tensor converted to {@code to} by the cheapest collective, with the plain Megatron backward. */
    public static Tensor redistribute(Tensor x, DistSpec to) {
        DistState state = requireDist(x);
        return run(x, plan(state, to), state.withSpec(to));
    }

    /**
     * {@link #redistribute} of a tensor no one reads afterwards, whose step memory the caller made and hands over (the
     * dispatcher's partial sum of a row-parallel layer, before its all-reduce or reduce-scatter): an all-reduce sums
     * in place, any other conversion gives x's storage back ({@link io.colo4j.tensor.Storage#release()}) once its
     * output exists, so the partial sum is not held to the step's end. Same values as {@link #redistribute}.
     */
    public static Tensor redistributeConsuming(Tensor x, DistSpec to) {
        DistState state = requireDist(x);
        Redistribution plan = plan(state, to);
        if (plan.collective() == CollectiveKind.ALL_REDUCE && x.isContiguous()) {
            return run(x, plan, state.withSpec(to), true);
        }
        Tensor out = run(x, plan, state.withSpec(to), false);
        io.colo4j.tensor.Storage consumed = x.storageIfAny();
        if (consumed != null && consumed != out.storageIfAny()) {
            consumed.release();
        }
        return out;
    }

    /**
     * Identity forward, all-reduce of the gradient backward ({@code copy_to_tensor_model_parallel_region}):
     * for a replicated input whose consumer only produces this rank's partial gradient.
     */
    public static Tensor copyToTpRegion(Tensor x) {
        DistState state = requireDist(x);
        if (state.context().tpSize() == 1) {
            return x;
        }
        Redistribution plan = plan(state, state.spec()).withMapping(TensorParallelMapping.COPY_TO_TP_REGION);
        return run(x, plan, state);
    }

    /**
     * {@link #copyToTpRegion}, made once per tensor and graph: every column-parallel consumer of a
     * replicated activation (q, k and v projections; gate and up) shares it, so their partial gradients
     * are summed at the one node and all-reduced once, as Megatron's single copy_to_tensor_model_parallel_region.
     */
    public static Tensor sharedCopyToTpRegion(Tensor x) {
        return shared(x, requireDist(x).spec(), Redistributor::copyToTpRegion);
    }

    /**
     * A shard made whole for consumers that each yield only a partial gradient
     * ({@code gather_from_sequence_parallel_region}): all-gather forward, reduce-scatter of the summed
     * partial gradients backward, where a plain gather and {@link #copyToTpRegion} would all-reduce and
     * then drop all but the shard. Made once per tensor and graph, as {@link #sharedCopyToTpRegion}: the
     * column-parallel consumers of a sequence-parallel activation share one gather.
     */
    public static Tensor sharedGatherFromSpRegion(Tensor x) {
        DistSpec whole = io.colo4j.spec.ReplicaSpec.INSTANCE;
        Tensor gathered = shared(x, whole, t -> {
            DistState state = requireDist(t);
            Redistribution plan = plan(state, whole).withMapping(TensorParallelMapping.GATHER_FROM_SP_REGION);
            Tensor made = run(t, plan, state.withSpec(whole));
            RegatheredInputs.made(t, made, plan, state.context());
            return made;
        });
        RegatheredInputs.used(gathered);
        return gathered;
    }

    /**
     * The region {@code make} builds for {@code x} (of spec {@code spec}), cached on x while its graph is
     * alive; a cached region of the other kind (a copy where a gather is asked) is replaced, never returned.
     */
    private static Tensor shared(Tensor x, DistSpec spec, java.util.function.UnaryOperator<Tensor> make) {
        Tensor cached = ColoDistribution.tpCopy(x);
        if (cached != null && requireDist(cached).spec().equals(spec) && (cached.gradFn() != null ? !cached.gradFn().isReleased() : !x.requiresGrad())) {
            return cached;
        }
        Tensor copy = make.apply(x);
        ColoDistribution.setTpCopy(x, copy);
        return copy;
    }

    private static Redistribution plan(DistState state, DistSpec to) {
        return Redistribution.plan(OpScope.currentModule().isEmpty() ? OpScope.currentOp() : OpScope.currentModule(),
                state.globalShape(), state.spec(), to, state.context().tpSize());
    }

    private static Tensor run(Tensor x, Redistribution plan, DistState outState) {
        return run(x, plan, outState, false);
    }

    /** @param inPlace an all-reduce sums x's own data (x is read by no one else) instead of a copy */
    private static Tensor run(Tensor x, Redistribution plan, DistState outState, boolean inPlace) {
        DistContext ctx = outState.context();
        String module = OpScope.currentModule();
        String op = OpScope.currentOp();
        Tensor out = inPlace ? allReduceInPlace(x, ctx) : execute(x, plan.from(), plan.to(), plan.collective(), ctx);
        trace(ctx, module, op, plan.collective(), plan.sendBytesPerRank(), CommTrace.Phase.FORWARD);
        ColoDistribution.label(out, outState);
        if (plan.backwardCollective() == CollectiveKind.NONE && plan.collective() == CollectiveKind.NONE) {
            // same data, new label: still one autograd edge, so gradients reach x
            return Autograd.record("relabel", out, g -> new Tensor[] {g}, x);
        }
        Redistribution back = plan.backward();
        return Autograd.record(plan.collective().wireName(), out, g -> {
            Tensor gin = execute(g, back.from(), back.to(), back.collective(), ctx);
            trace(ctx, module, op, back.collective(), back.sendBytesPerRank(), CommTrace.Phase.BACKWARD);
            return new Tensor[] {gin};
        }, x);
    }

    static void trace(DistContext ctx, String module, String op, CollectiveKind kind, long bytes, CommTrace.Phase phase) {
        if (kind.communicates()) {
            ctx.trace().add(new CommTrace.Record(module, op, kind, bytes, phase));
        }
    }

    private static Tensor allReduceInPlace(Tensor x, DistContext ctx) {
        try (GradMode.Guard ignored = GradMode.disabled()) {
            Tensor sum = x.detach();
            ctx.tp().allReduce(sum);
            return sum;
        }
    }

    /** The local data of {@code x} (layout {@code from}) as layout {@code to}; never recorded. */
    static Tensor execute(Tensor x, ShardLayout from, ShardLayout to, CollectiveKind kind, DistContext ctx) {
        Communicator tp = ctx.tp();
        int rank = tp.rank();
        try (GradMode.Guard ignored = GradMode.disabled()) {
            Tensor local = x.detach();
            return switch (kind) {
                case NONE -> local;
                case LOCAL_SLICE -> Shards.slice(local, to, rank);
                case LOCAL_KEEP_ON_RANK0 -> rank == 0 ? local.copy() : Tensor.zeros(local.shape());
                case LOCAL_ZERO_PAD -> {
                    Tensor full = Tensor.zeros(from.globalShape());
                    Shards.place(local, full, from, rank);
                    yield full;
                }
                case ALL_REDUCE -> {
                    Tensor sum = local.copy();
                    tp.allReduce(sum);
                    yield sum;
                }
                case ALL_GATHER -> gather(local, from, tp);
                case REDUCE_SCATTER -> {
                    ShardedDim plain = plainSingleDim(to);
                    if (plain != null) {
                        yield tp.reduceScatter(local, plain.dim());
                    }
                    Tensor sum = local.copy();
                    tp.allReduce(sum);
                    yield Shards.slice(sum, to, rank);
                }
                case ALL_TO_ALL -> {
                    ShardedDim src = plainSingleDim(from);
                    ShardedDim dst = plainSingleDim(to);
                    if (src != null && dst != null) {
                        yield tp.allToAll(local, dst.dim(), src.dim());
                    }
                    yield Shards.slice(gather(local, from, tp), to, rank);
                }
                case BROADCAST -> throw new IllegalStateException("the layout planner never broadcasts");
            };
        }
    }

    /** All-gather to the full tensor; a strided or multi-dim layout is reassembled from every rank's shard. */
    private static Tensor gather(Tensor local, ShardLayout from, Communicator tp) {
        ShardedDim plain = plainSingleDim(from);
        if (plain != null) {
            return tp.allGather(local, plain.dim());
        }
        Tensor all = tp.allGather(local.contiguous().view(1, -1), 0);
        List<Tensor> locals = new ArrayList<>(tp.size());
        for (int r = 0; r < tp.size(); r++) {
            locals.add(all.narrow(0, r, 1).view(local.shape()));
        }
        return Shards.assemble(locals, from);
    }

    /** The one sharded dim when the layout is a plain (stride 1) split of a single dim, else null. */
    private static ShardedDim plainSingleDim(ShardLayout layout) {
        List<ShardedDim> dims = layout.shardedDims();
        if (dims.size() == 1 && dims.get(0).stride() == 1) {
            return dims.get(0);
        }
        return null;
    }

    static DistState requireDist(Tensor x) {
        DistState state = ColoDistribution.state(x);
        if (state == null) {
            throw new IllegalArgumentException("tensor " + java.util.Arrays.toString(x.shape()) + " is not a ColoTensor");
        }
        return state;
    }
}

package io.colo4j.ops.dist;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.UserWarnings;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.DistState;
import io.colo4j.tensor.colo.OpScope;
import io.colo4j.tensor.colo.Redistributor;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Runs an op on ColoTensors: asks the op's strategy generator for its candidate signatures, runs the
 * cheapest ({@link StrategyCost}; ties to the earlier one), converting the inputs with the collectives it
 * needs (each recorded with its conjugate for backward), the serial kernel on the local shards, and
 * labels the output with its spec. An op with no candidate for these inputs is computed on replicated
 * inputs, never wrongly, with one warning per op and layout.
 */
public final class Dispatcher {
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();
    private static final ThreadLocal<String> LAST_MODULE = ThreadLocal.withInitial(() -> "");

    private Dispatcher() {}

    /** True when any input is a ColoTensor, i.e. the call must go through {@link #dispatch}. */
    public static boolean any(Tensor a) {
        return a != null && a.isDistributed();
    }

    public static boolean any(Tensor a, Tensor b) {
        return any(a) || any(b);
    }

    public static boolean any(Tensor a, Tensor b, Tensor c) {
        return any(a) || any(b) || any(c);
    }

    /**
     * @param local the op's serial computation on local tensors, given inputs in the same order
     */
    public static Tensor dispatch(Op op, Function<Tensor[], Tensor> local, Tensor... inputs) {
        return dispatch(op, new Object[0], local, inputs);
    }

    /** With non-tensor arguments the generator may need (token ids, targets). */
    public static Tensor dispatch(Op op, Object[] args, Function<Tensor[], Tensor> local, Tensor... inputs) {
        int profiled = io.colo4j.tensor.profile.StepProfile.enter(io.colo4j.tensor.profile.StepProfile.DISPATCH);
        long allocatedBefore = io.colo4j.tensor.MemoryScope.stepAllocations();
        DistContext context = contextOf(op, inputs);
        OpCall call = new OpCall(op, inputs, args, context);
        String module = moduleOf(inputs);
        try (OpScope scope = OpScope.enter(op.label(), module)) {
            Strategy strategy = cheapest(call);
            if (strategy == null) {
                strategy = fallback(call);
                context.trace().addFallback(new io.colo4j.tensor.colo.CommTrace.Fallback(module, op.label(), describe(call)));
            }
            Tensor[] converted = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                converted[i] = localView(convert(inputs[i], strategy.inputs()[i], strategy.partialGrad()[i], context));
            }
            int localOp = io.colo4j.tensor.profile.StepProfile.enter(io.colo4j.tensor.profile.StepProfile.FORWARD);
            Tensor computed = (strategy.local() != null ? strategy.local() : local).apply(converted);
            io.colo4j.tensor.profile.StepProfile.exit(localOp);
            int[] global = globalShape(computed.shape(), strategy.output(), context.tpSize());
            int[] valid = strategy.validOutShape() != null ? strategy.validOutShape() : global;
            // label a new view, never the local op's own output: its backward may have captured it
            Tensor out = io.colo4j.tensor.autograd.Autograd.record("to_colo", computed.detach(), g -> new Tensor[] {g}, computed);
            io.colo4j.tensor.colo.ColoTensor.label(out, new DistState(strategy.output(), global, valid, context));
            if (strategy.after() != null) {
                // the local output, made by this op and read by no backward, is dead once converted (a row layer's partial sum)
                out = ownsDeadOutput(op, computed, allocatedBefore)
                        ? Redistributor.redistributeConsuming(out, strategy.after())
                        : Redistributor.redistribute(out, strategy.after());
            }
            io.colo4j.tensor.profile.StepProfile.exit(profiled);
            return out;
        }
    }

    /** The candidate with the lowest cost, the earlier one on a tie; null when none can run. */
    static Strategy cheapest(OpCall call) {
        Strategy best = null;
        StrategyCost bestCost = null;
        for (Strategy candidate : call.op().strategies().candidates(call)) {
            StrategyCost cost = StrategyCost.of(call, candidate);
            if (cost != null && (bestCost == null || cost.compareTo(bestCost) < 0)) {
                best = candidate;
                bestCost = cost;
            }
        }
        return best;
    }

    /** The local op's output is step memory it allocated (not a view of an input) and its backward never reads it. */
    private static boolean ownsDeadOutput(Op op, Tensor computed, long allocatedBefore) {
        io.colo4j.tensor.Storage s = computed.storageIfAny();
        return !op.backwardReadsOutput() && s != null && s.madeSince(allocatedBefore);
    }

    private static Tensor convert(Tensor input, DistSpec required, boolean partialGrad, DistContext context) {
        if (input == null) {
            return null;
        }
        Tensor t = input.isDistributed() ? input : io.colo4j.tensor.colo.ColoTensor.replicate(input, context);
        if (partialGrad && gathersShard(io.colo4j.tensor.colo.ColoTensor.dist(t), required, context.tpSize())) {
            return Redistributor.sharedGatherFromSpRegion(t);
        }
        if (required != null && !sameLayout(io.colo4j.tensor.colo.ColoTensor.dist(t), required, context.tpSize())) {
            t = Redistributor.redistribute(t, required);
        }
        if (partialGrad && t instanceof ColoParameter p && p.sequenceParallel() && Sbp.isReplicate(p.spec())) {
            return io.colo4j.tensor.colo.SequenceParallelGrads.keepPartial(p); // its shares summed once after backward
        }
        return partialGrad ? Redistributor.sharedCopyToTpRegion(t) : t;
    }

    /**
     * A shard required whole by a consumer with a partial gradient (a column-parallel input under sequence
     * parallelism): gathered forward, its gradient reduce-scattered backward in one conversion.
     */
    private static boolean gathersShard(DistState state, DistSpec required, int tp) {
        return required != null && Sbp.isReplicate(required) && tp > 1
                && state.spec().kind() == io.colo4j.spec.PlacementKind.SHARD
                && !sameLayout(state, required, tp);
    }

    private static boolean sameLayout(DistState state, DistSpec required, int tp) {
        if (state.spec().equals(required)) {
            return true;
        }
        int[] shape = state.globalShape();
        return ShardLayout.of("tensor", shape, state.spec(), tp).sameLayoutAs(ShardLayout.of("tensor", shape, required, tp));
    }

    /**
     * The shard as a plain tensor, joined to the ColoTensor by one autograd edge: local kernels (and the
     * tensors their backward captures) never see global-shape view semantics.
     */
    private static Tensor localView(Tensor t) {
        if (t == null || !t.isDistributed()) {
            return t;
        }
        return io.colo4j.tensor.autograd.Autograd.record("to_local", t.detach(), g -> new Tensor[] {g}, t);
    }

    /** Gathers every input to replicate and computes serially: slow but right. */
    private static Strategy fallback(OpCall call) {
        if (WARNED.add(call.op().label() + describe(call))) {
            UserWarnings.warn(Dispatcher.class, "no sharding rule of '" + call.op().label() + "' takes " + describe(call) + "; gathering the inputs to replicate");
        }
        Strategy.Builder b = Strategy.of(call.size());
        for (int i = 0; i < call.size(); i++) {
            b.require(i, ReplicaSpec.INSTANCE);
        }
        return b.output(ReplicaSpec.INSTANCE);
    }

    private static String describe(OpCall call) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < call.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(Sbp.describe(call.spec(i)));
        }
        return sb.append(']').toString();
    }

    private static int[] globalShape(int[] local, DistSpec spec, int tp) {
        int[] global = local.clone();
        if (spec instanceof io.colo4j.spec.ShardSpec shard) {
            for (int i = 0; i < shard.rank(); i++) {
                int d = io.colo4j.tensor.Shapes.dim("dispatch", shard.dim(i), global.length);
                global[d] *= shard.numPartitions(i);
            }
        }
        return global;
    }

    private static DistContext contextOf(Op op, Tensor[] inputs) {
        DistContext context = null;
        for (Tensor t : inputs) {
            if (t != null && t.isDistributed()) {
                DistContext c = io.colo4j.tensor.colo.ColoTensor.dist(t).context();
                if (context != null && c != context) {
                    throw new IllegalArgumentException(op + ": inputs live on different process groups");
                }
                context = c;
            }
        }
        if (context == null) {
            throw new IllegalArgumentException(op + ": dispatch needs at least one ColoTensor input, got "
                    + Arrays.toString(Arrays.stream(inputs).map(t -> t == null ? null : Arrays.toString(t.shape())).toArray()));
        }
        return context;
    }

    /**
     * The module an op belongs to, for the trace: the owner of its parameter (a weight's path without
     * ".weight"), else the parent of the last such module on this thread (attention after c_attn reads
     * as "...attn").
     */
    private static String moduleOf(Tensor[] inputs) {
        for (Tensor t : inputs) {
            if (t instanceof ColoParameter p && p.name() != null) {
                String name = p.name();
                String module = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : "";
                LAST_MODULE.set(module);
                return module;
            }
        }
        String last = LAST_MODULE.get();
        return last.contains(".") ? last.substring(0, last.lastIndexOf('.')) : last;
    }
}

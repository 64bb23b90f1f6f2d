package io.colo4j.tensor.colo;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;

/**
 * The ColoTensor API. A ColoTensor is a {@link Tensor} whose data is this rank's shard and whose
 * {@link #dist} says of what: ops dispatch on it, view ops take global shapes.
 */
public final class ColoTensor {
    private ColoTensor() {}

    /** The spec, global shape and group of a ColoTensor; null for a plain (serial) tensor. */
    public static DistState dist(Tensor t) {
        return ColoDistribution.state(t);
    }

    /**
     * Makes {@code local} a shard described by {@code state} (replacing any distribution it had) and
     * returns it: how the runtime labels a tensor it has just made, such as an op's output.
     */
    public static Tensor label(Tensor local, DistState state) {
        return ColoDistribution.label(local, state);
    }

    /** This rank's shard of {@code full} (every rank passes the same full tensor); no communication. */
    public static Tensor distribute(Tensor full, DistSpec spec, DistContext context) {
        ShardLayout layout = ShardLayout.of("tensor", full.shape(), spec, context.tpSize());
        Tensor local = Shards.slice(full, layout, context.tpRank());
        return label(local, new DistState(spec, full.shape(), context));
    }

    /** {@code t} (the same values on every rank) as a replicated ColoTensor; shares its data and graph. */
    public static Tensor replicate(Tensor t, DistContext context) {
        Tensor out = label(t.detach(), new DistState(ReplicaSpec.INSTANCE, t.localShape(), context));
        return Autograd.record("replicate", out, g -> new Tensor[] {g}, t);
    }

    /**
     * {@code local} (this rank's data of a tensor laid out like {@code like}: a parameter's gradient, an optimizer
     * moment) as a ColoTensor with that layout, sharing its data and off the graph, so that {@code full()} gathers it:
     * {@code ColoTensor.laidOutAs(p.grad(), p).full()} is the whole gradient of a sharded parameter.
     */
    public static Tensor laidOutAs(Tensor local, Tensor like) {
        DistState state = Redistributor.requireDist(like);
        if (!java.util.Arrays.equals(local.localShape(), like.localShape())) {
            throw new IllegalArgumentException("laidOutAs: local data " + java.util.Arrays.toString(local.localShape())
                    + " is not a shard of " + state + " (this rank holds " + java.util.Arrays.toString(like.localShape()) + ")");
        }
        return label(local.detach(), state);
    }

    public static DistSpec spec(Tensor t) {
        return Redistributor.requireDist(t).spec();
    }

    /** The whole tensor as a plain tensor on every rank (gathered or reduced as needed); differentiable. */
    public static Tensor full(Tensor t) {
        DistState state = Redistributor.requireDist(t);
        Tensor replicated = state.spec() instanceof ReplicaSpec ? t : Redistributor.redistribute(t, ReplicaSpec.INSTANCE);
        Tensor plain = replicated.detach();
        if (state.padded()) {
            int[] valid = state.validShape();
            for (int d = 0; d < valid.length; d++) {
                plain = plain.narrow(d, 0, valid[d]);
            }
            plain = plain.copy();
        }
        return Autograd.record("to_full", plain, g -> new Tensor[] {padGrad(g, state)}, replicated);
    }

    private static Tensor padGrad(Tensor g, DistState state) {
        if (!state.padded()) {
            return g;
        }
        Tensor out = Tensor.zeros(state.globalShape());
        Tensor region = out;
        int[] valid = state.validShape();
        for (int d = 0; d < valid.length; d++) {
            region = region.narrow(d, 0, valid[d]);
        }
        region.copyFrom(g);
        return out;
    }
}

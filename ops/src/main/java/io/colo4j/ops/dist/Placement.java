package io.colo4j.ops.dist;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.colo.DistState;

/**
 * A tensor's distribution reduced to what sharding rules branch on: replicated, partial, or split
 * along one normalised dim (with its parts and stride). Multi-dim shards read as {@link Kind#OTHER}
 * so that no rule mistakes them for something it handles.
 */
public record Placement(Kind kind, int dim, int parts, int stride, int[] globalShape, int[] validShape) {
    public enum Kind { REPLICATE, PARTIAL, SHARD, OTHER }

    static Placement replicated(int[] shape) {
        return new Placement(Kind.REPLICATE, -1, 1, 1, shape, shape);
    }

    static Placement of(DistState state, int tp) {
        int[] shape = state.globalShape();
        int[] valid = state.validShape();
        DistSpec spec = state.spec();
        if (spec.kind() == PlacementKind.REPLICATE || tp == 1 && spec.kind() != PlacementKind.PARTIAL) {
            return new Placement(Kind.REPLICATE, -1, 1, 1, shape, valid);
        }
        if (spec.kind() == PlacementKind.PARTIAL) {
            return new Placement(Kind.PARTIAL, -1, 1, 1, shape, valid);
        }
        ShardSpec shard = (ShardSpec) spec;
        int effective = -1;
        for (int i = 0; i < shard.rank(); i++) {
            if (shard.numPartitions(i) > 1) {
                if (effective >= 0) {
                    return new Placement(Kind.OTHER, -1, tp, 1, shape, valid);
                }
                effective = i;
            }
        }
        if (effective < 0) {
            return new Placement(Kind.REPLICATE, -1, 1, 1, shape, valid);
        }
        int d = Shapes.dim("placement", shard.dim(effective), shape.length);
        return new Placement(Kind.SHARD, d, shard.numPartitions(effective), shard.stride(effective), shape, valid);
    }

    public boolean isReplicate() {
        return kind == Kind.REPLICATE;
    }

    public boolean isPartial() {
        return kind == Kind.PARTIAL;
    }

    public boolean isShard() {
        return kind == Kind.SHARD;
    }

    /** Sharded along {@code d} (negative counts from the end). */
    public boolean isShardOn(int d) {
        return kind == Kind.SHARD && dim == Shapes.dim("placement", d, globalShape.length);
    }

    public int rank() {
        return globalShape.length;
    }

    /** The same split (parts and stride) on another dim: how rules say "shard the output like this input". */
    public DistSpec shardSpecOn(int d) {
        return ShardSpec.strided(d, parts, stride);
    }

    public DistSpec spec() {
        return switch (kind) {
            case REPLICATE -> ReplicaSpec.INSTANCE;
            case PARTIAL -> DistSpec.partialSum();
            case SHARD -> ShardSpec.strided(dim, parts, stride);
            case OTHER -> throw new IllegalStateException("multi-dim shards have no single-dim spec");
        };
    }

    /** Same split as {@code other}, both sharded: parts and stride agree. */
    public boolean sameSplitAs(Placement other) {
        return kind == Kind.SHARD && other.kind == Kind.SHARD && parts == other.parts && stride == other.stride;
    }
}

package io.colo4j.ops.dist;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.ShardSpec;

/**
 * OneFlow's SBP vocabulary over spec's types, for strategy generators: B (broadcast) = {@link #R},
 * P = {@link #P}, S(d) = a {@link ShardSpec} of one dim. The specs generators see come from
 * {@link OpCall#spec}: dims non-negative, dims split in one part dropped.
 */
final class Sbp {
    static final DistSpec R = ReplicaSpec.INSTANCE;
    static final DistSpec P = DistSpec.partialSum();

    private Sbp() {}

    static boolean isReplicate(DistSpec s) {
        return s.kind() == PlacementKind.REPLICATE;
    }

    static boolean isPartial(DistSpec s) {
        return s.kind() == PlacementKind.PARTIAL;
    }

    /** S(d) for one d; a spec splitting several dims at once is none of R, P or S(d). */
    static boolean isSplit(DistSpec s) {
        return s instanceof ShardSpec shard && shard.rank() == 1;
    }

    static boolean isSplitOn(DistSpec s, int dim) {
        return isSplit(s) && ((ShardSpec) s).dim(0) == dim;
    }

    /** The split dim of S(d), else -1. */
    static int splitDim(DistSpec s) {
        return isSplit(s) ? ((ShardSpec) s).dim(0) : -1;
    }

    static boolean isMultiDim(DistSpec s) {
        return s instanceof ShardSpec shard && shard.rank() > 1;
    }

    /** The same split (parts and stride) as {@code like} on another dim: "shard the output like this input". */
    static ShardSpec splitLike(DistSpec like, int dim) {
        ShardSpec s = (ShardSpec) like;
        return ShardSpec.strided(dim, s.numPartitions(0), s.stride(0));
    }

    /** S(dim) split like {@code like} where that is an S(d) (a strided qkv split stays strided), else plain in tp parts. */
    static ShardSpec splitLikeOr(DistSpec like, int dim, int tp) {
        return like != null && isSplit(like) ? splitLike(like, dim) : ShardSpec.of(dim, tp);
    }

    static boolean sameSplit(DistSpec a, DistSpec b) {
        if (!isSplit(a) || !isSplit(b)) {
            return false;
        }
        ShardSpec x = (ShardSpec) a;
        ShardSpec y = (ShardSpec) b;
        return x.numPartitions(0) == y.numPartitions(0) && x.stride(0) == y.stride(0);
    }

    /** How the dispatcher's warnings and the trace name a spec: REPLICATE, PARTIAL, SHARD(d) or OTHER. */
    static String describe(DistSpec s) {
        if (s == null) {
            return "none";
        }
        if (isMultiDim(s)) {
            return "OTHER";
        }
        return isSplit(s) ? "SHARD(" + splitDim(s) + ")" : s.kind().name();
    }
}

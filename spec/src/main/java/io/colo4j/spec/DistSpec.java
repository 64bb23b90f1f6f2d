package io.colo4j.spec;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * How the values of one tensor are spread over the ranks of its tensor-parallel group, in the
 * sense of ColossalAI's {@code _DistSpec} and DTensor's placements.
 *
 * <p>A spec says nothing about the tensor's shape or the group size; {@code ShardLayout} in
 * {@code io.colo4j.spec.placement} binds it to both and validates the combination.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ReplicaSpec.class, name = "replicate"),
    @JsonSubTypes.Type(value = ShardSpec.class, name = "shard"),
    @JsonSubTypes.Type(value = PartialSpec.class, name = "partial")
})
public sealed interface DistSpec permits ReplicaSpec, ShardSpec, PartialSpec {

    /** Not a JSON property: the {@code type} discriminator already says it. */
    default PlacementKind kind() {
        return switch (this) {
            case ReplicaSpec r -> PlacementKind.REPLICATE;
            case ShardSpec s -> PlacementKind.SHARD;
            case PartialSpec p -> PlacementKind.PARTIAL;
        };
    }

    static ReplicaSpec replicate() {
        return ReplicaSpec.INSTANCE;
    }

    /** A plain contiguous split of one dim (negative counts from the end) into {@code numPartitions}. */
    static ShardSpec shard(int dim, int numPartitions) {
        return ShardSpec.of(dim, numPartitions);
    }

    /** A split of each of {@code stride} equal blocks of one dim, as for fused qkv (3) or kv (2) weights. */
    static ShardSpec shard(int dim, int numPartitions, int stride) {
        return ShardSpec.strided(dim, numPartitions, stride);
    }

    static PartialSpec partialSum() {
        return PartialSpec.INSTANCE;
    }
}

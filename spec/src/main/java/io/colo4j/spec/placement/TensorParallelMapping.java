package io.colo4j.spec.placement;

import static io.colo4j.spec.placement.CollectiveKind.ALL_GATHER;
import static io.colo4j.spec.placement.CollectiveKind.ALL_REDUCE;
import static io.colo4j.spec.placement.CollectiveKind.ALL_TO_ALL;
import static io.colo4j.spec.placement.CollectiveKind.LOCAL_KEEP_ON_RANK0;
import static io.colo4j.spec.placement.CollectiveKind.LOCAL_SLICE;
import static io.colo4j.spec.placement.CollectiveKind.LOCAL_ZERO_PAD;
import static io.colo4j.spec.placement.CollectiveKind.NONE;
import static io.colo4j.spec.placement.CollectiveKind.REDUCE_SCATTER;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.colo4j.spec.WireNames;

/**
 * The conjugate table: each row is a forward conversion and the collective its backward pass
 * runs on the gradient, after Megatron's {@code tensor_parallel/mappings.py}.
 *
 * <p>The forward collective alone does not fix the backward one: an identity forward is free
 * backward when the consumer is redundant but an all-reduce when it is sharded compute
 * ({@link #COPY_TO_TP_REGION}), and an all-gather is undone by a slice or, under sequence
 * parallelism, by a reduce-scatter. What decides is whether the gradient of the output arrives
 * as a partial sum ({@link #outputGradientIsPartial()}); the gradient of a partial sum is
 * always a replica, since every summand receives the whole upstream gradient.
 * {@link Redistribution#backward()} follows exactly that rule, and the tests check that it lands
 * on {@link #backward()} for every row.
 */
public enum TensorParallelMapping implements WireNames.Named {
    /** Same layout on both sides. */
    IDENTITY(NONE, NONE, false),
    /** {@code copy_to_tensor_model_parallel_region}: a replica enters sharded compute (column-parallel input). */
    COPY_TO_TP_REGION(NONE, ALL_REDUCE, true),
    /** {@code reduce_from_tensor_model_parallel_region}: a row-parallel output's partial sums become a replica. */
    REDUCE_FROM_TP_REGION(ALL_REDUCE, NONE, false),
    /** {@code scatter_to_tensor_model_parallel_region}: replica to shard by a local split. */
    SCATTER_TO_TP_REGION(LOCAL_SLICE, ALL_GATHER, false),
    /** {@code gather_from_tensor_model_parallel_region}: shard to replica (column-parallel output). */
    GATHER_FROM_TP_REGION(ALL_GATHER, LOCAL_SLICE, false),
    /** {@code reduce_scatter_to_sequence_parallel_region}: partial sums to a shard. */
    REDUCE_SCATTER_TO_SP_REGION(REDUCE_SCATTER, ALL_GATHER, false),
    /** {@code gather_from_sequence_parallel_region}: shard to a replica that feeds sharded compute. */
    GATHER_FROM_SP_REGION(ALL_GATHER, REDUCE_SCATTER, true),
    /** Re-shard along another dim (or another stride); the backward all-to-all goes the other way. */
    ALL_TO_ALL_SHARDS(ALL_TO_ALL, ALL_TO_ALL, false),
    /** Replica to partial sum kept on tp rank 0; the replicated gradient needs nothing. */
    KEEP_ON_RANK0(LOCAL_KEEP_ON_RANK0, NONE, false),
    /** Shard to a partial sum by zero padding; each rank's gradient is its slice of the replica. */
    ZERO_PAD_TO_PARTIAL(LOCAL_ZERO_PAD, LOCAL_SLICE, false);

    private final CollectiveKind forward;
    private final CollectiveKind backward;
    private final boolean outputGradientIsPartial;

    TensorParallelMapping(CollectiveKind forward, CollectiveKind backward, boolean outputGradientIsPartial) {
        this.forward = forward;
        this.backward = backward;
        this.outputGradientIsPartial = outputGradientIsPartial;
    }

    public CollectiveKind forward() {
        return forward;
    }

    public CollectiveKind backward() {
        return backward;
    }

    /** Whether the consumer of the (replicated) output hands back a partial-sum gradient. */
    public boolean outputGradientIsPartial() {
        return outputGradientIsPartial;
    }

    @JsonCreator
    public static TensorParallelMapping fromWireName(String wireName) {
        return WireNames.parse(TensorParallelMapping.class, wireName);
    }
}

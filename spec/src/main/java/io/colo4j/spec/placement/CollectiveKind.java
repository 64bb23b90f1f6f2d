package io.colo4j.spec.placement;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.colo4j.spec.WireNames;

/**
 * What a conversion between two layouts has to do, named so a communicator can map it onto its
 * primitives. The {@code LOCAL_*} kinds and {@link #NONE} never touch the network.
 *
 * <p>JSON names are lower snake_case: {@code "all_reduce"}, {@code "all_gather"},
 * {@code "reduce_scatter"}, {@code "all_to_all"}, {@code "broadcast"}, {@code "none"},
 * {@code "local_slice"}, {@code "local_zero_pad"}, {@code "local_keep_on_rank0"}.
 */
public enum CollectiveKind implements WireNames.Named {
    /** The layouts already agree. */
    NONE,
    /** Each rank cuts its own piece out of a tensor it holds whole (Megatron's split). */
    LOCAL_SLICE,
    /** Each rank writes its piece into a zero tensor of the full shape: a partial sum whose summands don't overlap. */
    LOCAL_ZERO_PAD,
    /**
     * Replica to partial sum: tp rank 0 keeps the value and the others hold zeros, so the later sum
     * gives back exactly the original (DTensor divides by n instead, which rounds for most n).
     */
    LOCAL_KEEP_ON_RANK0,
    ALL_GATHER,
    ALL_REDUCE,
    REDUCE_SCATTER,
    ALL_TO_ALL,
    /** Not produced by the layout planner (no layout pair needs it); named for the communicator, e.g. dp weight sync. */
    BROADCAST;

    @JsonCreator
    public static CollectiveKind fromWireName(String wireName) {
        return WireNames.parse(CollectiveKind.class, wireName);
    }

    public boolean communicates() {
        return switch (this) {
            case NONE, LOCAL_SLICE, LOCAL_ZERO_PAD, LOCAL_KEEP_ON_RANK0 -> false;
            case ALL_GATHER, ALL_REDUCE, REDUCE_SCATTER, ALL_TO_ALL, BROADCAST -> true;
        };
    }

    /**
     * Whether the collective moves the ranks' pieces of a shard layout: the kinds whose buffers are
     * laid out in rank order, and so need a local reorder when a piece is not one contiguous block.
     */
    public boolean exchangesShards() {
        return this == ALL_GATHER || this == REDUCE_SCATTER || this == ALL_TO_ALL;
    }

    /**
     * Per-rank traffic of the ring algorithms NCCL and MPI use for large messages, rounded up to
     * whole bytes: all-reduce moves {@code 2(n-1)/n} of the full tensor, all-gather and
     * reduce-scatter {@code (n-1)/n} of it, all-to-all {@code (n-1)/n} of the local piece, and a
     * pipelined broadcast the full tensor (on the busiest rank).
     *
     * @param fullBytes the bytes of the whole (global) tensor
     * @param localBytes the bytes of one rank's piece before the collective
     */
    public CommVolume volume(int groupSize, long fullBytes, long localBytes) {
        if (groupSize < 1) {
            throw new IllegalArgumentException("group size must be >= 1, got " + groupSize);
        }
        long others = groupSize - 1L;
        return switch (this) {
            case NONE, LOCAL_SLICE, LOCAL_ZERO_PAD, LOCAL_KEEP_ON_RANK0 -> CommVolume.ZERO;
            case ALL_REDUCE -> CommVolume.symmetric(Math.ceilDiv(Math.multiplyExact(2 * others, fullBytes), groupSize));
            case ALL_GATHER, REDUCE_SCATTER ->
                    CommVolume.symmetric(Math.ceilDiv(Math.multiplyExact(others, fullBytes), groupSize));
            case ALL_TO_ALL -> CommVolume.symmetric(Math.ceilDiv(Math.multiplyExact(others, localBytes), groupSize));
            case BROADCAST -> groupSize == 1 ? CommVolume.ZERO : CommVolume.symmetric(fullBytes);
        };
    }
}

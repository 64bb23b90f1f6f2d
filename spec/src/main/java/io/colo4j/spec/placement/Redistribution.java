package io.colo4j.spec.placement;

import static io.colo4j.spec.PlacementKind.PARTIAL;
import static io.colo4j.spec.PlacementKind.REPLICATE;
import static io.colo4j.spec.PlacementKind.SHARD;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.SpecException;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The conversion of one tensor from one layout to another over the same tp group, as a value:
 * the collective to run, the dims it touches, whether the pieces need a local reorder, the
 * traffic per rank, and the conversion its backward pass runs on the gradient.
 *
 * <p>Which collective a pair of placements needs is the table {@link #DEFAULT_MAPPING}:
 * <pre>
 *   from \ to   replicate              shard                        partial
 *   replicate   none                   local_slice                  local_keep_on_rank0
 *   shard       all_gather             all_to_all (none if equal)   local_zero_pad
 *   partial     all_reduce             reduce_scatter               none
 * </pre>
 * A strided or multi-dim shard moved by all-gather, reduce-scatter or all-to-all also needs a
 * local reorder ({@link #localReorder()}), because those collectives lay buffers out rank after
 * rank while such a rank's piece is several separate blocks of the tensor.
 */
public final class Redistribution {
    public static final int FLOAT32_BYTES = 4;

    private static final Map<PlacementKind, Map<PlacementKind, TensorParallelMapping>> DEFAULT_MAPPING = table();

    private final ShardLayout from;
    private final ShardLayout to;
    private final TensorParallelMapping mapping;
    private final int bytesPerElement;

    private Redistribution(ShardLayout from, ShardLayout to, TensorParallelMapping mapping, int bytesPerElement) {
        this.from = from;
        this.to = to;
        this.mapping = mapping;
        this.bytesPerElement = bytesPerElement;
    }

    private static Map<PlacementKind, Map<PlacementKind, TensorParallelMapping>> table() {
        Map<PlacementKind, Map<PlacementKind, TensorParallelMapping>> table = new EnumMap<>(PlacementKind.class);
        table.put(REPLICATE, row(TensorParallelMapping.IDENTITY,
                TensorParallelMapping.SCATTER_TO_TP_REGION, TensorParallelMapping.KEEP_ON_RANK0));
        table.put(SHARD, row(TensorParallelMapping.GATHER_FROM_TP_REGION,
                TensorParallelMapping.ALL_TO_ALL_SHARDS, TensorParallelMapping.ZERO_PAD_TO_PARTIAL));
        table.put(PARTIAL, row(TensorParallelMapping.REDUCE_FROM_TP_REGION,
                TensorParallelMapping.REDUCE_SCATTER_TO_SP_REGION, TensorParallelMapping.IDENTITY));
        return table;
    }

    private static Map<PlacementKind, TensorParallelMapping> row(
            TensorParallelMapping toReplicate, TensorParallelMapping toShard, TensorParallelMapping toPartial) {
        Map<PlacementKind, TensorParallelMapping> row = new EnumMap<>(PlacementKind.class);
        row.put(REPLICATE, toReplicate);
        row.put(SHARD, toShard);
        row.put(PARTIAL, toPartial);
        return row;
    }

    /** The mapping the planner picks between two different layouts of these placements. */
    public static TensorParallelMapping defaultMapping(PlacementKind from, PlacementKind to) {
        return DEFAULT_MAPPING.get(from).get(to);
    }

    /** Plans a float32 conversion; validates both specs against the tensor. */
    public static Redistribution plan(String tensorName, int[] globalShape, DistSpec from, DistSpec to, int groupSize) {
        return plan(ShardLayout.of(tensorName, globalShape, from, groupSize),
                ShardLayout.of(tensorName, globalShape, to, groupSize));
    }

    /** Plans a float32 conversion. */
    public static Redistribution plan(ShardLayout from, ShardLayout to) {
        return plan(from, to, FLOAT32_BYTES);
    }

    public static Redistribution plan(ShardLayout from, ShardLayout to, int bytesPerElement) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (!Arrays.equals(from.globalShape(), to.globalShape()) || from.groupSize() != to.groupSize()) {
            throw new SpecException("cannot redistribute " + from + " into " + to
                    + ": both sides need the same global shape and group size");
        }
        if (bytesPerElement < 1) {
            throw new SpecException("cannot redistribute " + from + ": bytesPerElement must be >= 1, got "
                    + bytesPerElement);
        }
        TensorParallelMapping mapping = from.sameLayoutAs(to)
                ? TensorParallelMapping.IDENTITY
                : defaultMapping(from.effectiveKind(), to.effectiveKind());
        return new Redistribution(from, to, mapping, bytesPerElement);
    }

    /**
     * The same conversion labelled with another row of the conjugate table that runs the same
     * forward collective, e.g. {@link TensorParallelMapping#COPY_TO_TP_REGION} for a replica that
     * feeds a column-parallel op, or {@link TensorParallelMapping#GATHER_FROM_SP_REGION} under
     * sequence parallelism: only the backward pass differs.
     */
    public Redistribution withMapping(TensorParallelMapping newMapping) {
        Objects.requireNonNull(newMapping, "mapping");
        if (newMapping.forward() != collective()) {
            throw new SpecException("cannot run " + this + " as " + newMapping.wireName() + ": that mapping's forward is "
                    + newMapping.forward().wireName() + ", but the layouts need " + collective().wireName());
        }
        if (newMapping.outputGradientIsPartial() && to.effectiveKind() != REPLICATE) {
            throw new SpecException("cannot run " + this + " as " + newMapping.wireName()
                    + ": a partial-sum gradient only arises for a replicated output");
        }
        return new Redistribution(from, to, newMapping, bytesPerElement);
    }

    public ShardLayout from() {
        return from;
    }

    public ShardLayout to() {
        return to;
    }

    public TensorParallelMapping mapping() {
        return mapping;
    }

    public int bytesPerElement() {
        return bytesPerElement;
    }

    public String tensorName() {
        return from.tensorName();
    }

    public int groupSize() {
        return from.groupSize();
    }

    public CollectiveKind collective() {
        return mapping.forward();
    }

    /** The collective the backward pass runs on the gradient (the conjugate table's entry). */
    public CollectiveKind backwardCollective() {
        return mapping.backward();
    }

    /** The sharded dims of the source layout (what an all-gather concatenates along); empty if not a shard. */
    public int[] fromDims() {
        return from.effectiveKind() == SHARD ? from.shardedDimIndices() : new int[0];
    }

    /** The sharded dims of the target layout (what a slice or reduce-scatter splits along); empty if not a shard. */
    public int[] toDims() {
        return to.effectiveKind() == SHARD ? to.shardedDimIndices() : new int[0];
    }

    /** Whether pieces must be permuted around the collective (strided or multi-dim shards). */
    public boolean localReorder() {
        return collective().exchangesShards() && !(from.concatenatesInRankOrder() && to.concatenatesInRankOrder());
    }

    public CommVolume volume() {
        long fullBytes = Math.multiplyExact(from.globalNumel(), bytesPerElement);
        long localBytes = Math.multiplyExact(from.localNumel(), bytesPerElement);
        return collective().volume(from.groupSize(), fullBytes, localBytes);
    }

    public long sendBytesPerRank() {
        return volume().sendBytesPerRank();
    }

    public long receiveBytesPerRank() {
        return volume().receiveBytesPerRank();
    }

    /**
     * The conversion the backward pass runs: from the output's gradient layout to the input's.
     * Gradients keep their tensor's layout, except that a partial sum's gradient is a replica (each
     * summand gets the whole upstream gradient) and, where {@link #mapping()} says so, a replicated
     * output's gradient comes back as a partial sum. Over a single rank everything is
     * {@link CollectiveKind#NONE}; otherwise the collective is {@link #backwardCollective()}.
     */
    public Redistribution backward() {
        DistSpec outputGradient = mapping.outputGradientIsPartial()
                ? DistSpec.partialSum()
                : gradientSpec(to.spec());
        DistSpec inputGradient = gradientSpec(from.spec());
        return plan(to.withSpec(outputGradient), from.withSpec(inputGradient), bytesPerElement);
    }

    private static DistSpec gradientSpec(DistSpec spec) {
        return spec.kind() == PARTIAL ? DistSpec.replicate() : spec;
    }

    /** One line for a planner's log, e.g. {@code w [768, 2304] over 4 ranks: shard(..) -> replicate: all_gather ...}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(from.tensorName()).append(' ')
                .append(Arrays.toString(from.globalShape()))
                .append(" over ").append(from.groupSize()).append(" ranks: ")
                .append(from.spec()).append(" -> ").append(to.spec()).append(": ")
                .append(collective().wireName());
        int[] fromDims = fromDims();
        int[] toDims = toDims();
        if (fromDims.length > 0) {
            sb.append(" from dims ").append(Arrays.toString(fromDims));
        }
        if (toDims.length > 0) {
            sb.append(" to dims ").append(Arrays.toString(toDims));
        }
        if (localReorder()) {
            sb.append(" with a local reorder of strided/multi-dim pieces");
        }
        sb.append("; ").append(volume())
                .append("; mapping ").append(mapping.wireName())
                .append(", backward ").append(backwardCollective().wireName());
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Redistribution other
                && from.equals(other.from)
                && to.equals(other.to)
                && mapping == other.mapping
                && bytesPerElement == other.bytesPerElement;
    }

    @Override
    public int hashCode() {
        return Objects.hash(from, to, mapping, bytesPerElement);
    }

    @Override
    public String toString() {
        return describe();
    }
}

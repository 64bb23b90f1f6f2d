package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PartialSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A {@link DistSpec} bound to one named tensor's global shape and a tp group size, validated
 * once: what each tp rank holds, as a local shape and as global index ranges.
 *
 * <p>Shards must divide evenly, so every rank's local shape is the same; that keeps collectives
 * to equal-sized buffers, as NCCL's all-gather and reduce-scatter require.
 *
 * <p>Along a sharded dim a rank holds {@code stride} ranges (one per block, in block order; one
 * range for a plain split), and its local tensor along that dim is those ranges concatenated.
 * Along several sharded dims it holds the cartesian product of the per-dim ranges, concatenated
 * in row-major order. So slicing a full tensor by {@link #ranges(int)} gives the rank's shard,
 * and writing each rank's shard back through the same ranges reassembles the full tensor.
 */
public final class ShardLayout {
    private final String tensorName;
    private final int[] globalShape;
    private final DistSpec spec;
    private final int groupSize;
    /** The dims actually cut (more than one part), in the spec's order: the mixed-radix digits of a tp rank. */
    private final List<ShardedDim> shardedDims;
    private final int[] localShape;

    private ShardLayout(String tensorName, int[] globalShape, DistSpec spec, int groupSize, List<ShardedDim> shardedDims) {
        this.tensorName = tensorName;
        this.globalShape = globalShape;
        this.spec = spec;
        this.groupSize = groupSize;
        this.shardedDims = shardedDims;
        this.localShape = globalShape.clone();
        for (ShardedDim sd : shardedDims) {
            localShape[sd.dim()] /= sd.numPartitions();
        }
    }

    /**
     * Binds {@code spec} to a tensor; throws a {@link SpecException} naming the tensor and its
     * shape if a dim is out of range, listed twice, not divisible by its parts times its stride,
     * or if the parts do not multiply to {@code groupSize}.
     */
    public static ShardLayout of(String tensorName, int[] globalShape, DistSpec spec, int groupSize) {
        Objects.requireNonNull(tensorName, "tensorName");
        if (globalShape == null) {
            throw new SpecException("tensor " + tensorName + " needs a global shape");
        }
        if (spec == null) {
            throw new SpecException("tensor " + tensorName + " " + Arrays.toString(globalShape) + " needs a dist spec");
        }
        int[] shape = globalShape.clone();
        for (int size : shape) {
            if (size < 0) {
                throw new SpecException("tensor " + tensorName + " " + Arrays.toString(shape) + " has a negative size");
            }
        }
        if (groupSize < 1) {
            throw new SpecException("tensor " + tensorName + " " + Arrays.toString(shape)
                    + " cannot be placed over " + groupSize + " ranks: the group size must be >= 1");
        }
        List<ShardedDim> sharded = switch (spec) {
            case ReplicaSpec r -> List.of();
            case PartialSpec p -> List.of();
            case ShardSpec s -> resolve(tensorName, shape, s, groupSize);
        };
        return new ShardLayout(tensorName, shape, spec, groupSize, sharded);
    }

    private static List<ShardedDim> resolve(String name, int[] shape, ShardSpec spec, int groupSize) {
        String tensor = name + " " + Arrays.toString(shape);
        if (spec.totalPartitions() != groupSize) {
            throw new SpecException("cannot shard " + tensor + " as " + spec + " over " + groupSize
                    + " ranks: its partitions multiply to " + spec.totalPartitions() + ", not " + groupSize);
        }
        int[] resolved = new int[spec.rank()];
        List<ShardedDim> sharded = new ArrayList<>();
        for (int i = 0; i < spec.rank(); i++) {
            int given = spec.dim(i);
            int dim = Dims.resolveInRange("cannot shard " + tensor, given, shape.length);
            for (int j = 0; j < i; j++) {
                if (resolved[j] == dim) {
                    throw new SpecException("cannot shard " + tensor + ": dims " + spec.dim(j) + " and " + given
                            + " are the same dim");
                }
            }
            resolved[i] = dim;
            int parts = spec.numPartitions(i);
            int stride = spec.stride(i);
            long pieces = (long) parts * stride;
            if (shape[dim] % pieces != 0) {
                throw new SpecException("cannot shard " + tensor + " dim " + dim + " into " + parts + " parts"
                        + (stride == 1 ? "" : " with stride " + stride) + ": " + shape[dim]
                        + " is not divisible by " + pieces);
            }
            // One part is the whole dim whatever the stride: nothing is cut, so it is not a digit of the rank.
            if (parts > 1) {
                sharded.add(new ShardedDim(dim, parts, stride));
            }
        }
        return List.copyOf(sharded);
    }

    public String tensorName() {
        return tensorName;
    }

    public int[] globalShape() {
        return globalShape.clone();
    }

    public DistSpec spec() {
        return spec;
    }

    public int groupSize() {
        return groupSize;
    }

    /**
     * The placement this layout really has: a shard that cuts nothing, or anything over a single
     * rank, is a replica (the sum over one rank is its own value).
     */
    public PlacementKind effectiveKind() {
        if (groupSize == 1) {
            return PlacementKind.REPLICATE;
        }
        if (spec.kind() == PlacementKind.SHARD && shardedDims.isEmpty()) {
            return PlacementKind.REPLICATE;
        }
        return spec.kind();
    }

    /** The dims cut into more than one part, resolved to non-negative indices, in the spec's order. */
    public List<ShardedDim> shardedDims() {
        return shardedDims;
    }

    /** The sharded dims' indices, in the spec's order; empty unless the layout is a real shard. */
    public int[] shardedDimIndices() {
        return shardedDims.stream().mapToInt(ShardedDim::dim).toArray();
    }

    /** The shape every rank holds locally (the same on all ranks, since shards divide evenly). */
    public int[] localShape() {
        return localShape.clone();
    }

    /** The layout as a value: the spec, the global shape and each rank's local shape. */
    public PlacedShape placed() {
        return PlacedShape.of(spec, globalShape, localShape);
    }

    public long globalNumel() {
        return numel(globalShape);
    }

    public long localNumel() {
        return numel(localShape);
    }

    /** Which of the {@code numPartitions} parts tp rank {@code tpRank} holds along {@code dim} (0 if uncut). */
    public int partIndex(int tpRank, int dim) {
        checkTpRank(tpRank);
        int resolved = resolveDim(dim);
        int remaining = tpRank;
        // Mixed radix, the first sharded dim most significant, as ColossalAI's _shard_as.
        for (int i = shardedDims.size() - 1; i >= 0; i--) {
            ShardedDim sd = shardedDims.get(i);
            int digit = remaining % sd.numPartitions();
            remaining /= sd.numPartitions();
            if (sd.dim() == resolved) {
                return digit;
            }
        }
        return 0;
    }

    /**
     * The global index ranges tp rank {@code tpRank} holds along {@code dim} (negative counts from
     * the end), in the order they sit in its local tensor: the whole dim if it is not cut, one range
     * for a plain split, one range per block for a strided one.
     */
    public List<IndexRange> ranges(int tpRank, int dim) {
        int resolved = resolveDim(dim);
        int part = partIndex(tpRank, resolved);
        int size = globalShape[resolved];
        for (ShardedDim sd : shardedDims) {
            if (sd.dim() == resolved) {
                int block = sd.blockLength(size);
                int piece = sd.pieceLength(size);
                List<IndexRange> ranges = new ArrayList<>(sd.stride());
                for (int b = 0; b < sd.stride(); b++) {
                    int start = b * block + part * piece;
                    ranges.add(new IndexRange(start, start + piece));
                }
                return List.copyOf(ranges);
            }
        }
        return List.of(new IndexRange(0, size));
    }

    /** {@link #ranges(int, int)} for every dim, indexed by dim. */
    public List<List<IndexRange>> ranges(int tpRank) {
        List<List<IndexRange>> perDim = new ArrayList<>(globalShape.length);
        for (int d = 0; d < globalShape.length; d++) {
            perDim.add(ranges(tpRank, d));
        }
        return List.copyOf(perDim);
    }

    /**
     * Whether the full tensor is the ranks' local tensors concatenated in rank order along one dim
     * (or there is nothing to concatenate). False for strided or multi-dim shards: their pieces have
     * to be reordered around a collective that lays buffers out rank after rank.
     */
    public boolean concatenatesInRankOrder() {
        return shardedDims.isEmpty() || (shardedDims.size() == 1 && shardedDims.getFirst().stride() == 1);
    }

    /** Whether every rank holds the same global elements in the same way under both layouts. */
    public boolean sameLayoutAs(ShardLayout other) {
        return Arrays.equals(globalShape, other.globalShape)
                && groupSize == other.groupSize
                && effectiveKind() == other.effectiveKind()
                && shardedDims.equals(other.shardedDims);
    }

    /** The same tensor and group under another spec. */
    public ShardLayout withSpec(DistSpec newSpec) {
        return of(tensorName, globalShape, newSpec, groupSize);
    }

    private int resolveDim(int dim) {
        return Dims.resolveInRange("tensor " + describeTensor(), dim, globalShape.length);
    }

    private void checkTpRank(int tpRank) {
        if (tpRank < 0 || tpRank >= groupSize) {
            throw new SpecException("tensor " + describeTensor() + ": tp rank " + tpRank
                    + " is out of range for a group of " + groupSize + " ranks");
        }
    }

    private String describeTensor() {
        return tensorName + " " + Arrays.toString(globalShape);
    }

    private static long numel(int[] shape) {
        return Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardLayout other
                && tensorName.equals(other.tensorName)
                && Arrays.equals(globalShape, other.globalShape)
                && spec.equals(other.spec)
                && groupSize == other.groupSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(tensorName, Arrays.hashCode(globalShape), spec, groupSize);
    }

    @Override
    public String toString() {
        return describeTensor() + " as " + spec + " over " + groupSize + " ranks";
    }
}

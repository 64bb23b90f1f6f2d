package io.colo4j.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Arrays;

/**
 * Each listed dim is split into equal parts across the group (ColossalAI's {@code ShardSpec}).
 *
 * <p>Dims may be negative, counting from the end ({@code -1} is the last dim), as ColossalAI's
 * {@code ShardSpec([-1], [tp])} for column-parallel weights; they are resolved against a shape
 * only when the spec is bound to a tensor. Several dims may be sharded at once; tp rank {@code r}
 * is then read as a mixed-radix number over {@code numPartitions}, the first dim most significant
 * (as ColossalAI's {@code DistSpecManager._shard_as}), so the product of the parts must equal the
 * tp degree.
 *
 * <p>A stride {@code s > 1} views the dim as {@code s} equal consecutive blocks (q|k|v for a fused
 * qkv weight, stride 3) and splits each block into {@code numPartitions} parts; rank {@code r}
 * holds part {@code r} of every block, concatenated in block order ({@code [q_r | k_r | v_r]}),
 * so each rank keeps whole heads of q, k and v. Stride 1 is a plain contiguous split.
 *
 * <p>Immutable: the arrays are copied on the way in and on the way out.
 */
@JsonPropertyOrder({"dims", "numPartitions", "strides"})
public record ShardSpec(int[] dims, int[] numPartitions, int[] strides) implements DistSpec {

    /**
     * @param strides one per dim, or {@code null} for all 1 (plain splits); JSON may omit it
     */
    @JsonCreator
    public ShardSpec(
            @JsonProperty(value = "dims", required = true) int[] dims,
            @JsonProperty(value = "numPartitions", required = true) int[] numPartitions,
            @JsonProperty("strides") int[] strides) {
        if (dims == null || numPartitions == null) {
            throw new SpecException("shard spec needs both dims and numPartitions, got dims="
                    + Arrays.toString(dims) + " numPartitions=" + Arrays.toString(numPartitions));
        }
        int[] effectiveStrides = strides == null ? ones(dims.length) : strides;
        String described = describe(dims, numPartitions, effectiveStrides);
        if (dims.length == 0) {
            throw new SpecException("shard spec needs at least one dim: " + described);
        }
        if (numPartitions.length != dims.length || effectiveStrides.length != dims.length) {
            throw new SpecException("shard spec needs one numPartitions and one stride per dim: " + described);
        }
        for (int i = 0; i < dims.length; i++) {
            if (numPartitions[i] < 1) {
                throw new SpecException("shard spec dim " + dims[i] + " has " + numPartitions[i]
                        + " partitions, needs >= 1: " + described);
            }
            if (effectiveStrides[i] < 1) {
                throw new SpecException("shard spec dim " + dims[i] + " has stride " + effectiveStrides[i]
                        + ", needs >= 1: " + described);
            }
            for (int j = 0; j < i; j++) {
                if (dims[j] == dims[i]) {
                    throw new SpecException("shard spec lists dim " + dims[i] + " twice: " + described);
                }
            }
        }
        this.dims = dims.clone();
        this.numPartitions = numPartitions.clone();
        this.strides = effectiveStrides.clone();
    }

    public ShardSpec(int[] dims, int[] numPartitions) {
        this(dims, numPartitions, null);
    }

    public static ShardSpec of(int dim, int numPartitions) {
        return new ShardSpec(new int[] {dim}, new int[] {numPartitions}, null);
    }

    public static ShardSpec strided(int dim, int numPartitions, int stride) {
        return new ShardSpec(new int[] {dim}, new int[] {numPartitions}, new int[] {stride});
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    @Override
    public int[] numPartitions() {
        return numPartitions.clone();
    }

    @Override
    public int[] strides() {
        return strides.clone();
    }

    /** How many sharded dims this spec lists (including any with a single part). */
    public int rank() {
        return dims.length;
    }

    public int dim(int i) {
        return dims[i];
    }

    public int numPartitions(int i) {
        return numPartitions[i];
    }

    public int stride(int i) {
        return strides[i];
    }

    /** The number of distinct pieces the tensor is cut into: the tp degree it needs. */
    public int totalPartitions() {
        return Arrays.stream(numPartitions).reduce(1, Math::multiplyExact);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardSpec other
                && Arrays.equals(dims, other.dims)
                && Arrays.equals(numPartitions, other.numPartitions)
                && Arrays.equals(strides, other.strides);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(dims) + Arrays.hashCode(numPartitions)) + Arrays.hashCode(strides);
    }

    @Override
    public String toString() {
        return describe(dims, numPartitions, strides);
    }

    private static String describe(int[] dims, int[] numPartitions, int[] strides) {
        return "shard(dims=" + Arrays.toString(dims) + ", numPartitions=" + Arrays.toString(numPartitions)
                + ", strides=" + Arrays.toString(strides) + ")";
    }

    private static int[] ones(int n) {
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        return ones;
    }
}

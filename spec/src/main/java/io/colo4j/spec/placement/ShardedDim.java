package io.colo4j.spec.placement;

/**
 * One dim of a bound shard layout: resolved to a non-negative index, cut into
 * {@code numPartitions > 1} parts, each of its {@code stride} blocks split alike.
 */
public record ShardedDim(int dim, int numPartitions, int stride) {

    /** The length of one of the {@code stride} blocks the dim is viewed as. */
    public int blockLength(int dimSize) {
        return dimSize / stride;
    }

    /** The length of one part of one block: what a rank holds of each block. */
    public int pieceLength(int dimSize) {
        return dimSize / stride / numPartitions;
    }

    @Override
    public String toString() {
        return stride == 1
                ? "dim " + dim + " / " + numPartitions
                : "dim " + dim + " / " + numPartitions + " (stride " + stride + ")";
    }
}

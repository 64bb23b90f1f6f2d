package io.colo4j.ops.kernel;

import io.colo4j.spec.placement.IndexRange;
import io.colo4j.spec.placement.ShardLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Where each element of a local tensor sits in the serial model's tensor, for kernels that draw
 * random numbers by element index (dropout): the local tensor is runs of {@code runLength}
 * consecutive elements, run r starting at global flat index {@code starts[r]}. A shard cut along
 * dim c holds, for each index of the dims before c, one piece of dim c with every dim after it
 * whole, which is contiguous in the full tensor: so there are few runs (one per row for a column
 * shard, one per batch row for a sequence split, one in all for a row shard), and the table is
 * tiny beside the tensor.
 *
 * @param runLength consecutive elements per run, > 0 (0 only for an empty tensor)
 * @param starts    each run's global flat index, in local order
 */
public record GlobalIndex(int runLength, long[] starts) {
    public GlobalIndex {
        starts = starts.clone();
        if (runLength < 0 || (runLength == 0 && starts.length > 1)) {
            throw new IllegalArgumentException("global index: run length " + runLength + " for " + starts.length + " runs");
        }
    }

    /** A tensor of {@code n} elements that is the whole tensor, shifted by {@code offset} (a dp rank's rows). */
    public static GlobalIndex whole(long n, long offset) {
        return new GlobalIndex(Math.toIntExact(n), new long[] {offset});
    }

    /**
     * tp rank {@code tpRank}'s shard under {@code layout}, every index shifted by {@code offset}
     * (a dp rank's first element in the global batch).
     */
    public static GlobalIndex of(ShardLayout layout, int tpRank, long offset) {
        int[] global = layout.globalShape();
        int[] local = layout.localShape();
        List<List<IndexRange>> ranges = layout.ranges(tpRank);
        int cut = -1;
        for (int d = 0; d < global.length; d++) {
            if (local[d] != global[d]) {
                cut = d;
            }
        }
        if (cut < 0) {
            return whole(layout.localNumel(), offset);
        }
        long[] stride = new long[global.length];
        long s = 1;
        for (int d = global.length - 1; d >= 0; d--) {
            stride[d] = s;
            s *= global[d];
        }
        List<IndexRange> pieces = ranges.get(cut);
        int runLength = Math.toIntExact(pieces.getFirst().length() * stride[cut]);
        long outer = 1;
        for (int d = 0; d < cut; d++) {
            outer *= local[d];
        }
        long[] starts = new long[Math.toIntExact(outer * pieces.size())];
        int[] at = new int[cut];
        for (int o = 0, r = 0; o < outer; o++) {
            long base = offset;
            for (int d = 0; d < cut; d++) {
                base += globalIndexAlong(ranges.get(d), at[d]) * stride[d];
            }
            for (IndexRange piece : pieces) {
                starts[r++] = base + piece.start() * stride[cut];
            }
            for (int d = cut - 1; d >= 0 && ++at[d] == local[d]; d--) {
                at[d] = 0;
            }
        }
        return new GlobalIndex(runLength, starts);
    }

    /** The global index along a dim of local index {@code i}, the dim's ranges concatenated. */
    private static long globalIndexAlong(List<IndexRange> ranges, int i) {
        for (IndexRange r : ranges) {
            if (i < r.length()) {
                return r.start() + i;
            }
            i -= r.length();
        }
        throw new IndexOutOfBoundsException("local index past the shard's ranges " + ranges);
    }

    /** Local elements covered: runs x run length. */
    public long numel() {
        return (long) runLength * starts.length;
    }

    /** Global flat index of local element {@code e}. */
    public long of(long e) {
        return starts[(int) (e / runLength)] + e % runLength;
    }

    @Override
    public long[] starts() {
        return starts.clone();
    }

    /** Run r's start without copying the table (kernels read it per run). */
    public long start(int r) {
        return starts[r];
    }

    public int runs() {
        return starts.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GlobalIndex other && runLength == other.runLength && Arrays.equals(starts, other.starts);
    }

    @Override
    public int hashCode() {
        return 31 * runLength + Arrays.hashCode(starts);
    }

    @Override
    public String toString() {
        return "GlobalIndex(" + starts.length + " runs of " + runLength + ")";
    }
}

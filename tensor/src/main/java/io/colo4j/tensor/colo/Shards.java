package io.colo4j.tensor.colo;

import io.colo4j.spec.placement.IndexRange;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.util.ArrayList;
import java.util.List;

/** Moves between a full tensor and one rank's shard of it, for any layout (strided, multi-dim). */
public final class Shards {
    private Shards() {}

    /** Rank {@code rank}'s shard of {@code full}, contiguous, not recorded by autograd. */
    public static Tensor slice(Tensor full, ShardLayout layout, int rank) {
        try (GradMode.Guard ignored = GradMode.disabled()) {
            Tensor t = full.detach();
            for (int dim : layout.shardedDimIndices()) {
                List<IndexRange> ranges = layout.ranges(rank, dim);
                List<Tensor> pieces = new ArrayList<>(ranges.size());
                for (IndexRange r : ranges) {
                    pieces.add(t.narrow(dim, r.start(), r.length()));
                }
                t = pieces.size() == 1 ? pieces.get(0) : Tensor.cat(dim, pieces);
            }
            return t.copy();
        }
    }

    /** Writes {@code local}, rank {@code rank}'s shard, into its place in {@code full}. */
    public static void place(Tensor local, Tensor full, ShardLayout layout, int rank) {
        try (GradMode.Guard ignored = GradMode.disabled()) {
            placeRecursive(local.detach(), full.detach(), layout, rank, layout.shardedDimIndices(), 0);
        }
    }

    private static void placeRecursive(Tensor local, Tensor full, ShardLayout layout, int rank, int[] dims, int which) {
        if (which == dims.length) {
            full.copyFrom(local);
            return;
        }
        int dim = dims[which];
        int localStart = 0;
        for (IndexRange r : layout.ranges(rank, dim)) {
            placeRecursive(local.narrow(dim, localStart, r.length()), full.narrow(dim, r.start(), r.length()),
                    layout, rank, dims, which + 1);
            localStart += r.length();
        }
    }

    /** The full tensor from every rank's shard, given in rank order. */
    public static Tensor assemble(List<Tensor> locals, ShardLayout layout) {
        Tensor full = Tensor.zeros(layout.globalShape());
        for (int rank = 0; rank < locals.size(); rank++) {
            place(locals.get(rank), full, layout, rank);
        }
        return full;
    }
}

package io.colo4j.ops.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.placement.IndexRange;
import io.colo4j.spec.placement.ShardLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A shard's global index table agrees with its layout's index ranges element by element, with few runs. */
class GlobalIndexTest {
    static final int[] SHAPE = {4, 6, 36};

    /** The global flat indices of tp rank r's local elements in local row-major order, from the layout's ranges. */
    static List<Long> bruteForce(ShardLayout layout, int r, long offset) {
        List<List<IndexRange>> ranges = layout.ranges(r);
        List<List<Integer>> along = new ArrayList<>();
        for (List<IndexRange> dim : ranges) {
            List<Integer> idx = new ArrayList<>();
            for (IndexRange range : dim) {
                for (int i = range.start(); i < range.end(); i++) {
                    idx.add(i);
                }
            }
            along.add(idx);
        }
        List<Long> out = new ArrayList<>();
        for (int a : along.get(0)) {
            for (int b : along.get(1)) {
                for (int c : along.get(2)) {
                    out.add(offset + ((long) a * SHAPE[1] + b) * SHAPE[2] + c);
                }
            }
        }
        return out;
    }

    @Test
    void everyLayoutMatchesItsRanges() {
        int tp = 4;
        for (DistSpec spec : List.of(DistSpec.shard(0, tp), DistSpec.shard(1, 2), DistSpec.shard(-1, tp),
                DistSpec.shard(-1, tp, 3), new ShardSpec(new int[] {1, 2}, new int[] {2, 2}),
                new ShardSpec(new int[] {2, 0}, new int[] {2, 2}, new int[] {3, 1}))) {
            int ranks = ((ShardSpec) spec).totalPartitions();
            ShardLayout layout = ShardLayout.of("x", SHAPE, spec, ranks);
            for (int r = 0; r < ranks; r++) {
                GlobalIndex index = GlobalIndex.of(layout, r, 1000);
                List<Long> want = bruteForce(layout, r, 1000);
                assertThat(index.numel()).as("%s rank %d", spec, r).isEqualTo(want.size());
                for (int e = 0; e < want.size(); e++) {
                    assertThat(index.of(e)).as("%s rank %d element %d", spec, r, e).isEqualTo(want.get(e));
                }
            }
        }
    }

    @Test
    void runsAreFew() {
        assertThat(GlobalIndex.of(ShardLayout.of("x", SHAPE, DistSpec.shard(0, 2), 2), 1, 0).runs()).isEqualTo(1);
        assertThat(GlobalIndex.of(ShardLayout.of("x", SHAPE, DistSpec.shard(1, 2), 2), 1, 0).runs()).isEqualTo(SHAPE[0]);
        assertThat(GlobalIndex.of(ShardLayout.of("x", SHAPE, DistSpec.shard(-1, 2), 2), 1, 0).runs()).isEqualTo(SHAPE[0] * SHAPE[1]);
        assertThat(GlobalIndex.whole(10, 7).of(9)).isEqualTo(16);
    }
}

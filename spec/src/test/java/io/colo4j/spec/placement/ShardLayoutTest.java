package io.colo4j.spec.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShardLayoutTest {
    private static final String QKV = "transformer.h.0.attn.c_attn.weight";

    /** 72 is divisible by every parts x stride tried below. */
    @ParameterizedTest(name = "{0} parts, stride {1}")
    @CsvSource({"1,1", "2,1", "3,1", "4,1", "1,2", "2,2", "3,2", "4,2", "1,3", "2,3", "3,3", "4,3"})
    void everyRankHoldsAnEqualShareAndTheSharesCoverTheDimOnce(int parts, int stride) {
        ShardLayout layout = ShardLayout.of("w", new int[] {5, 72}, DistSpec.shard(1, parts, stride), parts);
        assertThat(layout.localShape()).containsExactly(5, 72 / parts);
        assertThat(layout.localNumel()).isEqualTo(5L * 72 / parts);

        int[] owners = new int[72];
        for (int rank = 0; rank < parts; rank++) {
            assertThat(layout.ranges(rank, 0)).containsExactly(new IndexRange(0, 5));
            List<IndexRange> ranges = layout.ranges(rank, 1);
            int expectedRanges = parts == 1 ? 1 : stride;
            assertThat(ranges).hasSize(expectedRanges);
            assertThat(ranges.stream().mapToInt(IndexRange::length).sum()).isEqualTo(72 / parts);
            for (IndexRange range : ranges) {
                for (int i = range.start(); i < range.end(); i++) {
                    owners[i]++;
                }
            }
            assertThat(layout.ranges(rank)).containsExactly(layout.ranges(rank, 0), ranges);
        }
        assertThat(owners).containsOnly(1);
    }

    @ParameterizedTest(name = "{0} parts")
    @CsvSource({"1", "2", "3", "4"})
    void plainSplitGivesRankRTheRthContiguousChunk(int parts) {
        ShardLayout layout = ShardLayout.of("w", new int[] {12, 3}, DistSpec.shard(0, parts), parts);
        int chunk = 12 / parts;
        for (int rank = 0; rank < parts; rank++) {
            assertThat(layout.ranges(rank, 0)).containsExactly(new IndexRange(rank * chunk, (rank + 1) * chunk));
            assertThat(layout.partIndex(rank, 0)).isEqualTo(rank);
        }
    }

    @Test
    void strideThreeGivesEachRankItsPartOfQThenKThenV() {
        // GPT-2's fused c_attn: [q | k | v] along dim 1, 768 columns each.
        ShardLayout layout = ShardLayout.of(QKV, new int[] {768, 2304}, DistSpec.shard(1, 4, 3), 4);
        assertThat(layout.localShape()).containsExactly(768, 576);
        for (int rank = 0; rank < 4; rank++) {
            List<IndexRange> ranges = layout.ranges(rank, -1);
            int piece = 192;
            assertThat(ranges).containsExactly(
                    new IndexRange(rank * piece, (rank + 1) * piece),
                    new IndexRange(768 + rank * piece, 768 + (rank + 1) * piece),
                    new IndexRange(1536 + rank * piece, 1536 + (rank + 1) * piece));
            for (int block = 0; block < 3; block++) {
                IndexRange range = ranges.get(block);
                // Whole heads of one block: the piece starts and ends inside block q, k or v respectively.
                assertThat(range.start() / 768).isEqualTo(block);
                assertThat((range.end() - 1) / 768).isEqualTo(block);
            }
        }
    }

    @Test
    void slicingByRangesAndWritingBackReassemblesTheTensor() {
        int rows = 4;
        int cols = 12;
        ShardLayout layout = ShardLayout.of("kv", new int[] {rows, cols}, DistSpec.shard(1, 2, 2), 2);
        int[][] full = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                full[r][c] = r * 100 + c;
            }
        }
        int[][] rebuilt = new int[rows][cols];
        for (int rank = 0; rank < 2; rank++) {
            int[][] local = new int[rows][layout.localShape()[1]];
            int offset = 0;
            for (IndexRange range : layout.ranges(rank, 1)) {
                for (int c = range.start(); c < range.end(); c++, offset++) {
                    for (int r = 0; r < rows; r++) {
                        local[r][offset] = full[r][c];
                    }
                }
            }
            // Rank 0 holds [k0 | v0] = columns 0..2 then 6..8.
            if (rank == 0) {
                assertThat(local[1]).containsExactly(100, 101, 102, 106, 107, 108);
            }
            offset = 0;
            for (IndexRange range : layout.ranges(rank, 1)) {
                for (int c = range.start(); c < range.end(); c++, offset++) {
                    for (int r = 0; r < rows; r++) {
                        rebuilt[r][c] = local[r][offset];
                    }
                }
            }
        }
        assertThat(rebuilt).isDeepEqualTo(full);
    }

    @Test
    void severalShardedDimsReadTheRankAsMixedRadixFirstDimMostSignificant() {
        ShardLayout layout = ShardLayout.of("w", new int[] {4, 6}, new ShardSpec(new int[] {0, 1}, new int[] {2, 3}), 6);
        assertThat(layout.localShape()).containsExactly(2, 2);
        int[][] owners = new int[4][6];
        for (int rank = 0; rank < 6; rank++) {
            assertThat(layout.partIndex(rank, 0)).isEqualTo(rank / 3);
            assertThat(layout.partIndex(rank, 1)).isEqualTo(rank % 3);
            for (IndexRange rows : layout.ranges(rank, 0)) {
                for (IndexRange cols : layout.ranges(rank, 1)) {
                    for (int r = rows.start(); r < rows.end(); r++) {
                        for (int c = cols.start(); c < cols.end(); c++) {
                            owners[r][c]++;
                        }
                    }
                }
            }
        }
        for (int[] row : owners) {
            assertThat(row).containsOnly(1);
        }
        assertThat(layout.ranges(4, 0)).containsExactly(new IndexRange(2, 4));
        assertThat(layout.ranges(4, 1)).containsExactly(new IndexRange(2, 4));
        assertThat(layout.concatenatesInRankOrder()).isFalse();
    }

    @Test
    void negativeDimsCountFromTheEnd() {
        ShardLayout negative = ShardLayout.of("w", new int[] {4, 6}, DistSpec.shard(-1, 2), 2);
        ShardLayout positive = ShardLayout.of("w", new int[] {4, 6}, DistSpec.shard(1, 2), 2);
        assertThat(negative.sameLayoutAs(positive)).isTrue();
        assertThat(negative.shardedDimIndices()).containsExactly(1);
        assertThat(negative.shardedDims()).containsExactly(new ShardedDim(1, 2, 1));
        assertThat(negative.ranges(1, -1)).isEqualTo(positive.ranges(1, 1));
    }

    @Test
    void replicaAndPartialHoldTheWholeShapeEverywhere() {
        for (DistSpec spec : List.of(DistSpec.replicate(), DistSpec.partialSum())) {
            ShardLayout layout = ShardLayout.of("w", new int[] {3, 5}, spec, 4);
            assertThat(layout.localShape()).containsExactly(3, 5);
            assertThat(layout.ranges(3)).containsExactly(List.of(new IndexRange(0, 3)), List.of(new IndexRange(0, 5)));
            assertThat(layout.effectiveKind()).isEqualTo(spec.kind());
        }
    }

    @Test
    void effectiveKindSeesThroughDegenerateLayouts() {
        assertThat(ShardLayout.of("w", new int[] {4}, DistSpec.shard(0, 1, 2), 1).effectiveKind())
                .isEqualTo(PlacementKind.REPLICATE);
        assertThat(ShardLayout.of("w", new int[] {4}, DistSpec.partialSum(), 1).effectiveKind())
                .isEqualTo(PlacementKind.REPLICATE);
        ShardLayout oneCutOfTwo = ShardLayout.of("w", new int[] {4, 4}, new ShardSpec(new int[] {0, 1}, new int[] {1, 2}), 2);
        assertThat(oneCutOfTwo.shardedDims()).containsExactly(new ShardedDim(1, 2, 1));
        assertThat(oneCutOfTwo.sameLayoutAs(ShardLayout.of("w", new int[] {4, 4}, DistSpec.shard(1, 2), 2))).isTrue();
    }

    @Test
    void zeroSizedDimsShardTrivially() {
        ShardLayout layout = ShardLayout.of("empty", new int[] {0, 4}, DistSpec.shard(0, 2), 2);
        assertThat(layout.localShape()).containsExactly(0, 4);
        assertThat(layout.ranges(1, 0)).containsExactly(new IndexRange(0, 0));
    }

    @Test
    void indivisibleDimsAreReportedWithTensorShapeDimAndDegree() {
        assertThatThrownBy(() -> ShardLayout.of(QKV, new int[] {768, 2304}, DistSpec.shard(1, 5, 3), 5))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot shard transformer.h.0.attn.c_attn.weight [768, 2304] dim 1 into 5 parts"
                        + " with stride 3: 2304 is not divisible by 15");
        assertThatThrownBy(() -> ShardLayout.of("transformer.wte.weight", new int[] {50257, 768}, DistSpec.shard(0, 2), 2))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot shard transformer.wte.weight [50257, 768] dim 0 into 2 parts: 50257 is not divisible by 2");
        assertThatThrownBy(() -> ShardLayout.of("w", new int[] {8, 6}, DistSpec.shard(-1, 4), 4))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot shard w [8, 6] dim 1 into 4 parts: 6 is not divisible by 4");
    }

    @Test
    void otherBindingErrorsNameTheTensor() {
        assertThatThrownBy(() -> ShardLayout.of("w", new int[] {8, 8}, DistSpec.shard(0, 2), 4))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot shard w [8, 8] as shard(dims=[0], numPartitions=[2], strides=[1]) over 4 ranks:"
                        + " its partitions multiply to 2, not 4");
        assertThatThrownBy(() -> ShardLayout.of("w", new int[] {8, 8}, DistSpec.shard(2, 2), 2))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot shard w [8, 8]: dim 2 is out of range for a 2-d tensor");
        assertThatThrownBy(() -> ShardLayout.of("w", new int[] {8, 8}, new ShardSpec(new int[] {1, -1}, new int[] {2, 1}), 2))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot shard w [8, 8]: dims 1 and -1 are the same dim");
        assertThatThrownBy(() -> ShardLayout.of("w", new int[] {8, -1}, DistSpec.replicate(), 2))
                .isInstanceOf(SpecException.class).hasMessageContaining("w [8, -1] has a negative size");
        assertThatThrownBy(() -> ShardLayout.of("w", new int[] {8}, DistSpec.replicate(), 0))
                .isInstanceOf(SpecException.class).hasMessageContaining("group size must be >= 1");
        assertThatThrownBy(() -> ShardLayout.of("w", new int[] {8}, null, 2))
                .isInstanceOf(SpecException.class).hasMessageContaining("w [8] needs a dist spec");

        ShardLayout layout = ShardLayout.of("w", new int[] {8}, DistSpec.shard(0, 2), 2);
        assertThatThrownBy(() -> layout.ranges(2, 0))
                .isInstanceOf(SpecException.class)
                .hasMessage("tensor w [8]: tp rank 2 is out of range for a group of 2 ranks");
        assertThatThrownBy(() -> layout.ranges(0, 1))
                .isInstanceOf(SpecException.class)
                .hasMessage("tensor w [8]: dim 1 is out of range for a 1-d tensor");
    }
}

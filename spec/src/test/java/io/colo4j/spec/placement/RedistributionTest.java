package io.colo4j.spec.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RedistributionTest {
    private static final int[] SHAPE = {8, 12};
    private static final int RANKS = 4;

    /** One of each kind of spec, over a [8, 12] tensor on 4 ranks. */
    private static final Map<String, DistSpec> SPECS = new LinkedHashMap<>();

    static {
        SPECS.put("R", DistSpec.replicate());
        SPECS.put("S0", DistSpec.shard(0, 4));
        SPECS.put("S1", DistSpec.shard(1, 4));
        SPECS.put("S-1", DistSpec.shard(-1, 4));
        SPECS.put("S1x3", DistSpec.shard(1, 4, 3));
        SPECS.put("S01", new ShardSpec(new int[] {0, 1}, new int[] {2, 2}));
        SPECS.put("P", DistSpec.partialSum());
    }

    /** Rows are from, columns are to, in the order of SPECS; a trailing * means a local reorder too. */
    private static final String TABLE = """
            R     none          local_slice     local_slice     local_slice     local_slice      local_slice      local_keep_on_rank0
            S0    all_gather    none            all_to_all      all_to_all      all_to_all*      all_to_all*      local_zero_pad
            S1    all_gather    all_to_all      none            none            all_to_all*      all_to_all*      local_zero_pad
            S-1   all_gather    all_to_all      none            none            all_to_all*      all_to_all*      local_zero_pad
            S1x3  all_gather*   all_to_all*     all_to_all*     all_to_all*     none             all_to_all*      local_zero_pad
            S01   all_gather*   all_to_all*     all_to_all*     all_to_all*     all_to_all*      none             local_zero_pad
            P     all_reduce    reduce_scatter  reduce_scatter  reduce_scatter  reduce_scatter*  reduce_scatter*  none
            """;

    static Stream<Arguments> everyPair() {
        List<String> names = new ArrayList<>(SPECS.keySet());
        List<Arguments> pairs = new ArrayList<>();
        for (String line : TABLE.strip().split("\n")) {
            String[] cells = line.trim().split("\\s+");
            for (int col = 1; col < cells.length; col++) {
                String cell = cells[col];
                boolean reorder = cell.endsWith("*");
                String kind = reorder ? cell.substring(0, cell.length() - 1) : cell;
                pairs.add(Arguments.of(cells[0], names.get(col - 1), kind, reorder));
            }
        }
        assertThat(pairs).hasSize(SPECS.size() * SPECS.size());
        return pairs.stream();
    }

    @ParameterizedTest(name = "{0} -> {1}: {2}")
    @MethodSource("everyPair")
    void everyPairOfSpecsHasItsCollective(String from, String to, String kind, boolean reorder) {
        Redistribution r = Redistribution.plan("x", SHAPE, SPECS.get(from), SPECS.get(to), RANKS);
        assertThat(r.collective().wireName()).isEqualTo(kind);
        assertThat(r.localReorder()).isEqualTo(reorder);
        assertThat(r.collective().communicates()).isEqualTo(r.sendBytesPerRank() > 0);
        assertThat(r.mapping().forward()).isEqualTo(r.collective());
        // The backward conversion the gradient rule derives is the one the conjugate table names.
        assertThat(r.backward().collective()).isEqualTo(r.backwardCollective());
    }

    @Test
    void resultsNameTheDimsOnEachSide() {
        Redistribution gather = Redistribution.plan("x", SHAPE, SPECS.get("S1x3"), DistSpec.replicate(), RANKS);
        assertThat(gather.fromDims()).containsExactly(1);
        assertThat(gather.toDims()).isEmpty();

        Redistribution allToAll = Redistribution.plan("x", SHAPE, SPECS.get("S0"), SPECS.get("S-1"), RANKS);
        assertThat(allToAll.fromDims()).containsExactly(0);
        assertThat(allToAll.toDims()).containsExactly(1);

        Redistribution slice = Redistribution.plan("x", SHAPE, DistSpec.replicate(), SPECS.get("S01"), RANKS);
        assertThat(slice.fromDims()).isEmpty();
        assertThat(slice.toDims()).containsExactly(0, 1);

        Redistribution reduceScatter = Redistribution.plan("x", SHAPE, DistSpec.partialSum(), SPECS.get("S-1"), RANKS);
        assertThat(reduceScatter.toDims()).containsExactly(1);

        Redistribution allReduce = Redistribution.plan("x", SHAPE, DistSpec.partialSum(), DistSpec.replicate(), RANKS);
        assertThat(allReduce.fromDims()).isEmpty();
        assertThat(allReduce.toDims()).isEmpty();
    }

    @Test
    void bytesFollowTheRingAlgorithms() {
        // [8, 12] float32 = 384 bytes, 96 per rank on 4 ranks.
        assertThat(bytes("P", "R")).isEqualTo(576);   // 2 * 3/4 * 384
        assertThat(bytes("S0", "R")).isEqualTo(288);  // 3/4 * 384
        assertThat(bytes("P", "S1")).isEqualTo(288);  // 3/4 * 384
        assertThat(bytes("S0", "S1")).isEqualTo(72);  // 3/4 * 96
        assertThat(bytes("S1x3", "R")).isEqualTo(288);
        assertThat(bytes("R", "S1")).isZero();
        assertThat(bytes("R", "P")).isZero();
        assertThat(bytes("S0", "P")).isZero();
        assertThat(bytes("S1", "S-1")).isZero();
    }

    @Test
    void bytesForGpt2SizedTensors() {
        // c_attn weight, 768 x 2304 float32 = 7,077,888 bytes, gathered from 4 ranks.
        Redistribution gather = Redistribution.plan("transformer.h.0.attn.c_attn.weight", new int[] {768, 2304},
                DistSpec.shard(1, 4, 3), DistSpec.replicate(), 4);
        assertThat(gather.volume()).isEqualTo(CommVolume.symmetric(5_308_416));
        assertThat(gather.localReorder()).isTrue();

        // A row-parallel output [8, 1024, 768] all-reduced over 2 ranks moves the whole tensor once.
        Redistribution allReduce = Redistribution.plan("h.0.mlp.out", new int[] {8, 1024, 768},
                DistSpec.partialSum(), DistSpec.replicate(), 2);
        assertThat(allReduce.sendBytesPerRank()).isEqualTo(25_165_824);
        assertThat(allReduce.receiveBytesPerRank()).isEqualTo(25_165_824);

        // bf16 halves it.
        ShardLayout from = ShardLayout.of("h", new int[] {8, 1024, 768}, DistSpec.partialSum(), 2);
        Redistribution bf16 = Redistribution.plan(from, from.withSpec(DistSpec.replicate()), 2);
        assertThat(bf16.sendBytesPerRank()).isEqualTo(12_582_912);
    }

    @Test
    void volumesRoundUpToWholeBytes() {
        assertThat(CollectiveKind.ALL_REDUCE.volume(3, 4, 4)).isEqualTo(CommVolume.symmetric(6)); // 16/3
        assertThat(CollectiveKind.BROADCAST.volume(4, 100, 100)).isEqualTo(CommVolume.symmetric(100));
        assertThat(CollectiveKind.BROADCAST.volume(1, 100, 100)).isEqualTo(CommVolume.ZERO);
        assertThat(CollectiveKind.ALL_GATHER.volume(1, 100, 100).isZero()).isTrue();
        assertThatThrownBy(() -> CollectiveKind.ALL_GATHER.volume(0, 1, 1))
                .hasMessageContaining("group size must be >= 1, got 0");
    }

    @Test
    void aSingleRankNeverCommunicates() {
        List<DistSpec> specs = List.of(DistSpec.replicate(), DistSpec.shard(1, 1), DistSpec.shard(0, 1, 2),
                DistSpec.partialSum());
        for (DistSpec from : specs) {
            for (DistSpec to : specs) {
                Redistribution r = Redistribution.plan("x", SHAPE, from, to, 1);
                assertThat(r.collective()).as("%s -> %s", from, to).isEqualTo(CollectiveKind.NONE);
                assertThat(r.volume().isZero()).isTrue();
            }
        }
    }

    @Test
    void describeIsOneReadableLine() {
        Redistribution r = Redistribution.plan("transformer.h.0.attn.c_attn.weight", new int[] {768, 2304},
                DistSpec.shard(1, 4, 3), DistSpec.replicate(), 4);
        assertThat(r.describe()).isEqualTo("transformer.h.0.attn.c_attn.weight [768, 2304] over 4 ranks:"
                + " shard(dims=[1], numPartitions=[4], strides=[3]) -> replicate: all_gather from dims [1]"
                + " with a local reorder of strided/multi-dim pieces; send 5308416 B, receive 5308416 B per rank;"
                + " mapping gather_from_tp_region, backward local_slice");
        assertThat(r).hasToString(r.describe());
    }

    @Test
    void bothSidesMustDescribeTheSameTensorAndGroup() {
        ShardLayout a = ShardLayout.of("w", new int[] {8, 8}, DistSpec.replicate(), 2);
        ShardLayout b = ShardLayout.of("w", new int[] {8, 4}, DistSpec.replicate(), 2);
        ShardLayout c = ShardLayout.of("w", new int[] {8, 8}, DistSpec.replicate(), 4);
        assertThatThrownBy(() -> Redistribution.plan(a, b))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot redistribute w [8, 8] as replicate over 2 ranks into w [8, 4] as replicate over 2"
                        + " ranks: both sides need the same global shape and group size");
        assertThatThrownBy(() -> Redistribution.plan(a, c)).isInstanceOf(SpecException.class);
        assertThatThrownBy(() -> Redistribution.plan(a, a, 0))
                .isInstanceOf(SpecException.class).hasMessageContaining("bytesPerElement must be >= 1, got 0");
        assertThatThrownBy(() -> Redistribution.plan("w", new int[] {8, 6}, DistSpec.replicate(), DistSpec.shard(1, 4), 4))
                .isInstanceOf(SpecException.class)
                .hasMessage("cannot shard w [8, 6] dim 1 into 4 parts: 6 is not divisible by 4");
    }

    private static long bytes(String from, String to) {
        Redistribution r = Redistribution.plan("x", SHAPE, SPECS.get(from), SPECS.get(to), RANKS);
        assertThat(r.sendBytesPerRank()).isEqualTo(r.receiveBytesPerRank());
        return r.sendBytesPerRank();
    }
}

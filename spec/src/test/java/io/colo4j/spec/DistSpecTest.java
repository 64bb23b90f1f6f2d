package io.colo4j.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DistSpecTest {

    @Test
    void factoriesBuildEachKind() {
        assertThat(DistSpec.replicate().kind()).isEqualTo(PlacementKind.REPLICATE);
        assertThat(DistSpec.partialSum().kind()).isEqualTo(PlacementKind.PARTIAL);
        ShardSpec plain = DistSpec.shard(-1, 4);
        assertThat(plain.kind()).isEqualTo(PlacementKind.SHARD);
        assertThat(plain.dims()).containsExactly(-1);
        assertThat(plain.numPartitions()).containsExactly(4);
        assertThat(plain.strides()).containsExactly(1);
        assertThat(DistSpec.shard(1, 2, 3).strides()).containsExactly(3);
    }

    @Test
    void shardSpecAllowsSeveralDimsAndDefaultsStridesToOne() {
        ShardSpec spec = new ShardSpec(new int[] {0, -1}, new int[] {2, 3});
        assertThat(spec.rank()).isEqualTo(2);
        assertThat(spec.strides()).containsExactly(1, 1);
        assertThat(spec.totalPartitions()).isEqualTo(6);
        assertThat(spec.dim(1)).isEqualTo(-1);
        assertThat(spec.numPartitions(1)).isEqualTo(3);
    }

    @Test
    void shardSpecComparesByValueAndPrintsItsArrays() {
        ShardSpec a = new ShardSpec(new int[] {1}, new int[] {2}, new int[] {3});
        ShardSpec b = ShardSpec.strided(1, 2, 3);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(ShardSpec.of(1, 2));
        assertThat(a).hasToString("shard(dims=[1], numPartitions=[2], strides=[3])");
        assertThat(new ReplicaSpec()).isEqualTo(DistSpec.replicate());
        assertThat(new PartialSpec()).isEqualTo(DistSpec.partialSum());
    }

    @Test
    void shardSpecIsImmutable() {
        int[] dims = {0};
        int[] parts = {2};
        ShardSpec spec = new ShardSpec(dims, parts);
        dims[0] = 5;
        parts[0] = 7;
        spec.dims()[0] = 9;
        spec.strides()[0] = 9;
        assertThat(spec).isEqualTo(ShardSpec.of(0, 2));
    }

    @Test
    void shardSpecRejectsMalformedInputNamingTheProblem() {
        assertThatThrownBy(() -> new ShardSpec(new int[0], new int[0]))
                .isInstanceOf(SpecException.class).hasMessageContaining("at least one dim");
        assertThatThrownBy(() -> new ShardSpec(new int[] {0, 1}, new int[] {2}))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("one numPartitions and one stride per dim")
                .hasMessageContaining("dims=[0, 1]");
        assertThatThrownBy(() -> ShardSpec.of(1, 0))
                .isInstanceOf(SpecException.class).hasMessageContaining("dim 1 has 0 partitions, needs >= 1");
        assertThatThrownBy(() -> ShardSpec.strided(1, 2, 0))
                .isInstanceOf(SpecException.class).hasMessageContaining("dim 1 has stride 0, needs >= 1");
        assertThatThrownBy(() -> new ShardSpec(new int[] {1, 1}, new int[] {2, 2}))
                .isInstanceOf(SpecException.class).hasMessageContaining("lists dim 1 twice");
        assertThatThrownBy(() -> new ShardSpec(null, new int[] {2}))
                .isInstanceOf(SpecException.class).hasMessageContaining("needs both dims and numPartitions");
    }

    @Test
    void wireNamesAreLowerSnakeCaseAndParseStrictly() {
        assertThat(PlacementKind.REPLICATE.wireName()).isEqualTo("replicate");
        assertThat(WireNames.parse(PlacementKind.class, "partial")).isEqualTo(PlacementKind.PARTIAL);
        assertThatThrownBy(() -> WireNames.parse(PlacementKind.class, "PARTIAL"))
                .isInstanceOf(SpecException.class)
                .hasMessage("unknown PlacementKind \"PARTIAL\"; expected one of \"replicate\", \"shard\", \"partial\"");
    }
}

package io.colo4j.spec.placement;

import static io.colo4j.spec.placement.CollectiveKind.ALL_GATHER;
import static io.colo4j.spec.placement.CollectiveKind.ALL_REDUCE;
import static io.colo4j.spec.placement.CollectiveKind.ALL_TO_ALL;
import static io.colo4j.spec.placement.CollectiveKind.LOCAL_KEEP_ON_RANK0;
import static io.colo4j.spec.placement.CollectiveKind.LOCAL_SLICE;
import static io.colo4j.spec.placement.CollectiveKind.LOCAL_ZERO_PAD;
import static io.colo4j.spec.placement.CollectiveKind.NONE;
import static io.colo4j.spec.placement.CollectiveKind.REDUCE_SCATTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.SpecException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TensorParallelMappingTest {
    private static final int[] SHAPE = {8, 12};

    @ParameterizedTest(name = "{0}: {1} forward, {2} backward")
    @CsvSource({
        "IDENTITY, NONE, NONE",
        "COPY_TO_TP_REGION, NONE, ALL_REDUCE",
        "REDUCE_FROM_TP_REGION, ALL_REDUCE, NONE",
        "SCATTER_TO_TP_REGION, LOCAL_SLICE, ALL_GATHER",
        "GATHER_FROM_TP_REGION, ALL_GATHER, LOCAL_SLICE",
        "REDUCE_SCATTER_TO_SP_REGION, REDUCE_SCATTER, ALL_GATHER",
        "GATHER_FROM_SP_REGION, ALL_GATHER, REDUCE_SCATTER",
        "ALL_TO_ALL_SHARDS, ALL_TO_ALL, ALL_TO_ALL",
        "KEEP_ON_RANK0, LOCAL_KEEP_ON_RANK0, NONE",
        "ZERO_PAD_TO_PARTIAL, LOCAL_ZERO_PAD, LOCAL_SLICE"
    })
    void conjugateTableMatchesMegatronsMappings(TensorParallelMapping mapping, CollectiveKind forward, CollectiveKind backward) {
        assertThat(mapping.forward()).isEqualTo(forward);
        assertThat(mapping.backward()).isEqualTo(backward);
    }

    @Test
    void everyMappingIsListedAbove() {
        assertThat(TensorParallelMapping.values()).hasSize(10);
    }

    @Test
    void plannerPicksMegatronsMappingsForThePlainCases() {
        assertThat(mapping(DistSpec.partialSum(), DistSpec.replicate())).isEqualTo(TensorParallelMapping.REDUCE_FROM_TP_REGION);
        assertThat(mapping(DistSpec.shard(1, 4), DistSpec.replicate())).isEqualTo(TensorParallelMapping.GATHER_FROM_TP_REGION);
        assertThat(mapping(DistSpec.replicate(), DistSpec.shard(1, 4))).isEqualTo(TensorParallelMapping.SCATTER_TO_TP_REGION);
        assertThat(mapping(DistSpec.partialSum(), DistSpec.shard(0, 4))).isEqualTo(TensorParallelMapping.REDUCE_SCATTER_TO_SP_REGION);
        assertThat(mapping(DistSpec.replicate(), DistSpec.replicate())).isEqualTo(TensorParallelMapping.IDENTITY);
        assertThat(Redistribution.defaultMapping(PlacementKind.SHARD, PlacementKind.SHARD))
                .isEqualTo(TensorParallelMapping.ALL_TO_ALL_SHARDS);
    }

    @Test
    void backwardOfAGatherIsASliceAndViceVersa() {
        Redistribution gather = plan(DistSpec.shard(1, 4), DistSpec.replicate());
        Redistribution back = gather.backward();
        assertThat(back.collective()).isEqualTo(LOCAL_SLICE);
        assertThat(back.from().spec()).isEqualTo(DistSpec.replicate());
        assertThat(back.to().spec()).isEqualTo(DistSpec.shard(1, 4));
        assertThat(back.backward()).isEqualTo(gather);
    }

    @Test
    void backwardOfAnAllReduceIsFreeAndOfAReduceScatterIsAnAllGather() {
        assertThat(plan(DistSpec.partialSum(), DistSpec.replicate()).backward().collective()).isEqualTo(NONE);
        Redistribution back = plan(DistSpec.partialSum(), DistSpec.shard(0, 4)).backward();
        assertThat(back.collective()).isEqualTo(ALL_GATHER);
        assertThat(back.sendBytesPerRank()).isEqualTo(288);
    }

    @Test
    void backwardOfAnAllToAllGoesTheOtherWay() {
        Redistribution back = plan(DistSpec.shard(0, 4), DistSpec.shard(1, 4, 3)).backward();
        assertThat(back.collective()).isEqualTo(ALL_TO_ALL);
        assertThat(back.fromDims()).containsExactly(1);
        assertThat(back.toDims()).containsExactly(0);
        assertThat(back.localReorder()).isTrue();
    }

    @Test
    void copyToTensorParallelRegionIsFreeForwardAndAnAllReduceBackward() {
        Redistribution copy = plan(DistSpec.replicate(), DistSpec.replicate())
                .withMapping(TensorParallelMapping.COPY_TO_TP_REGION);
        assertThat(copy.collective()).isEqualTo(NONE);
        assertThat(copy.volume().isZero()).isTrue();
        assertThat(copy.backwardCollective()).isEqualTo(ALL_REDUCE);
        Redistribution back = copy.backward();
        assertThat(back.collective()).isEqualTo(ALL_REDUCE);
        assertThat(back.sendBytesPerRank()).isEqualTo(576);
    }

    @Test
    void sequenceParallelGatherIsUndoneByAReduceScatter() {
        Redistribution gather = plan(DistSpec.shard(0, 4), DistSpec.replicate())
                .withMapping(TensorParallelMapping.GATHER_FROM_SP_REGION);
        assertThat(gather.collective()).isEqualTo(ALL_GATHER);
        Redistribution back = gather.backward();
        assertThat(back.collective()).isEqualTo(REDUCE_SCATTER);
        assertThat(back.toDims()).containsExactly(0);
    }

    @Test
    void localConversionsHaveLocalOrFreeBackwards() {
        assertThat(plan(DistSpec.replicate(), DistSpec.partialSum()).backward().collective()).isEqualTo(NONE);
        assertThat(plan(DistSpec.replicate(), DistSpec.partialSum()).collective()).isEqualTo(LOCAL_KEEP_ON_RANK0);
        assertThat(plan(DistSpec.shard(1, 4), DistSpec.partialSum()).collective()).isEqualTo(LOCAL_ZERO_PAD);
        assertThat(plan(DistSpec.shard(1, 4), DistSpec.partialSum()).backward().collective()).isEqualTo(LOCAL_SLICE);
    }

    @Test
    void relabellingMustKeepTheForwardCollective() {
        Redistribution gather = plan(DistSpec.shard(0, 4), DistSpec.replicate());
        assertThatThrownBy(() -> gather.withMapping(TensorParallelMapping.COPY_TO_TP_REGION))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("as copy_to_tp_region: that mapping's forward is none, but the layouts need all_gather");
        Redistribution same = plan(DistSpec.shard(0, 4), DistSpec.shard(0, 4));
        assertThatThrownBy(() -> same.withMapping(TensorParallelMapping.COPY_TO_TP_REGION))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("a partial-sum gradient only arises for a replicated output");
    }

    private static TensorParallelMapping mapping(DistSpec from, DistSpec to) {
        return plan(from, to).mapping();
    }

    private static Redistribution plan(DistSpec from, DistSpec to) {
        return Redistribution.plan("x", SHAPE, from, to, 4);
    }
}

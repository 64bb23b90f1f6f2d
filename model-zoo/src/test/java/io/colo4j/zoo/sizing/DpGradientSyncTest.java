package io.colo4j.zoo.sizing;

import io.colo4j.zoo.memory.MemoryPerRank;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.placement.CollectiveKind;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The dp collectives per ZeRO stage and the optimizer chunks they imply. */
class DpGradientSyncTest {
    private static final List<DpGradientSync.Local> PARAMS = List.of(new DpGradientSync.Local("w", 10), new DpGradientSync.Local("b", 3));

    /**
     * Per stage at dp 3: ZeRO 0 all-reduces every gradient at the ring volume, 2 (dp - 1) / dp of it (40 B x 4/3 =
     * 53.3 -> 54, 12 B x 4/3 = 16); ZeRO 1 adds an all-gather of the parameter chunks, padded to ceil(numel / dp)
     * (w: chunks of ceil(10/3) = 4 floats; the all-gather sends the 2 other ranks' share: 2 x 16 B); ZeRO 2
     * reduce-scatters the gradients into those chunks instead of all-reducing them.
     */
    static Stream<Arguments> stages() {
        return Stream.of(
                Arguments.of(0, List.of(backward("w", CollectiveKind.ALL_REDUCE, 54), backward("b", CollectiveKind.ALL_REDUCE, 16))),
                Arguments.of(1, List.of(backward("w", CollectiveKind.ALL_REDUCE, 54), optimizer("w", CollectiveKind.ALL_GATHER, 32),
                        backward("b", CollectiveKind.ALL_REDUCE, 16), optimizer("b", CollectiveKind.ALL_GATHER, 8))),
                Arguments.of(2, List.of(backward("w", CollectiveKind.REDUCE_SCATTER, 32), optimizer("w", CollectiveKind.ALL_GATHER, 32),
                        backward("b", CollectiveKind.REDUCE_SCATTER, 8), optimizer("b", CollectiveKind.ALL_GATHER, 8))));
    }

    @ParameterizedTest(name = "zero {0}")
    @MethodSource("stages")
    void eachStageSendsItsCollectivesAtTheRingVolumes(int stage, List<DpGradientSync.Collective> expected) {
        assertThat(DpGradientSync.of(PARAMS, 3, stage)).containsExactlyElementsOf(expected);
    }

    @Test
    void nothingWithOneDpRankAndOnlyStages0To2() {
        assertThat(DpGradientSync.of(PARAMS, 1, 2)).isEmpty();
        assertThatThrownBy(() -> DpGradientSync.of(PARAMS, 2, 3)).hasMessageContaining("ZeRO stage must be 0, 1 or 2, got 3");
    }

    @Test
    void optimizerMomentsAreWholeAtStage0AndCeilNumelOverDpFromStage1() {
        assertThat(MemoryPerRank.optimizerChunk(10, 3, 0)).isEqualTo(10);
        assertThat(MemoryPerRank.optimizerChunk(10, 3, 1)).isEqualTo(4);
        assertThat(MemoryPerRank.optimizerChunk(10, 3, 2)).isEqualTo(4);
        assertThat(MemoryPerRank.optimizerChunk(9, 3, 1)).isEqualTo(3);
    }

    private static DpGradientSync.Collective backward(String parameter, CollectiveKind kind, long bytes) {
        return new DpGradientSync.Collective(parameter, kind, DpGradientSync.When.BACKWARD, bytes);
    }

    private static DpGradientSync.Collective optimizer(String parameter, CollectiveKind kind, long bytes) {
        return new DpGradientSync.Collective(parameter, kind, DpGradientSync.When.OPTIMIZER, bytes);
    }
}

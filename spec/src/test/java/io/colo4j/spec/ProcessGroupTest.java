package io.colo4j.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProcessGroupTest {

    @Test
    void twoByTwoMeshPutsTpRanksNextToEachOther() {
        ProcessGroup pg = ProcessGroup.of(2, 2, 4);
        assertThat(pg.worldSize()).isEqualTo(4);
        assertThat(pg.tpGroups()).containsExactly(new int[] {0, 1}, new int[] {2, 3});
        assertThat(pg.dpGroups()).containsExactly(new int[] {0, 2}, new int[] {1, 3});

        RankView r1 = pg.forRank(1);
        assertThat(r1.tpRank()).isEqualTo(1);
        assertThat(r1.dpRank()).isEqualTo(0);
        assertThat(r1.tpGroupRanks()).containsExactly(0, 1);
        assertThat(r1.dpGroupRanks()).containsExactly(1, 3);

        RankView r2 = pg.forRank(2);
        assertThat(r2.tpRank()).isEqualTo(0);
        assertThat(r2.dpRank()).isEqualTo(1);
        assertThat(r2.tpGroupRanks()).containsExactly(2, 3);
        assertThat(r2.dpGroupRanks()).containsExactly(0, 2);

        RankView r3 = pg.forRank(3);
        assertThat(r3.tpRank()).isEqualTo(1);
        assertThat(r3.dpRank()).isEqualTo(1);
        assertThat(r3.tpGroupRanks()).containsExactly(2, 3);
        assertThat(r3.dpGroupRanks()).containsExactly(1, 3);
        assertThat(r3.tpDegree()).isEqualTo(2);
        assertThat(r3.dpDegree()).isEqualTo(2);
    }

    @Test
    void oneByFourMeshIsPureDataParallel() {
        ProcessGroup pg = ProcessGroup.of(1, 4);
        for (int rank = 0; rank < 4; rank++) {
            RankView view = pg.forRank(rank);
            assertThat(view.tpRank()).isZero();
            assertThat(view.dpRank()).isEqualTo(rank);
            assertThat(view.tpGroupRanks()).containsExactly(rank);
            assertThat(view.dpGroupRanks()).containsExactly(0, 1, 2, 3);
        }
    }

    @Test
    void fourByOneMeshIsPureTensorParallel() {
        ProcessGroup pg = ProcessGroup.of(4, 1);
        for (int rank = 0; rank < 4; rank++) {
            RankView view = pg.forRank(rank);
            assertThat(view.tpRank()).isEqualTo(rank);
            assertThat(view.dpRank()).isZero();
            assertThat(view.tpGroupRanks()).containsExactly(0, 1, 2, 3);
            assertThat(view.dpGroupRanks()).containsExactly(rank);
        }
    }

    @ParameterizedTest
    @CsvSource({"2,2", "1,4", "4,1", "3,5"})
    void coordinatesRoundTripAndEveryRankIsInExactlyOneGroupOfEachKind(int tp, int dp) {
        ProcessGroup pg = ProcessGroup.of(tp, dp);
        int[] tpMembership = new int[pg.worldSize()];
        int[] dpMembership = new int[pg.worldSize()];
        pg.tpGroups().forEach(g -> { for (int r : g) tpMembership[r]++; });
        pg.dpGroups().forEach(g -> { for (int r : g) dpMembership[r]++; });
        assertThat(tpMembership).containsOnly(1);
        assertThat(dpMembership).containsOnly(1);
        for (int rank = 0; rank < pg.worldSize(); rank++) {
            RankView view = pg.forRank(rank);
            assertThat(pg.globalRank(view.dpRank(), view.tpRank())).isEqualTo(rank);
            assertThat(view.globalRank()).isEqualTo(rank);
            assertThat(pg.tpRankOf(rank)).isEqualTo(view.tpRank());
            assertThat(pg.dpRankOf(rank)).isEqualTo(view.dpRank());
            assertThat(view.tpGroupRanks()).contains(rank).hasSize(tp);
            assertThat(view.dpGroupRanks()).contains(rank).hasSize(dp);
        }
    }

    @Test
    void rankViewIsImmutable() {
        RankView view = ProcessGroup.of(2, 2).forRank(0);
        view.tpGroupRanks()[0] = 99;
        view.dpGroupRanks()[0] = 99;
        assertThat(view.tpGroupRanks()).containsExactly(0, 1);
        assertThat(view.dpGroupRanks()).containsExactly(0, 2);
        assertThat(view).isEqualTo(ProcessGroup.of(2, 2).forRank(0));
    }

    @Test
    void rejectsBadDegreesWorldSizesAndRanksWithClearMessages() {
        assertThatThrownBy(() -> ProcessGroup.of(0, 2))
                .isInstanceOf(SpecException.class).hasMessage("process group tpDegree must be >= 1, got 0");
        assertThatThrownBy(() -> ProcessGroup.of(2, -1))
                .isInstanceOf(SpecException.class).hasMessage("process group dpDegree must be >= 1, got -1");
        assertThatThrownBy(() -> ProcessGroup.of(3, 2, 8))
                .isInstanceOf(SpecException.class)
                .hasMessage("process group tpDegree 3 x dpDegree 2 = 6 ranks does not match the world size 8");
        assertThatThrownBy(() -> ProcessGroup.of(65536, 65536))
                .isInstanceOf(SpecException.class).hasMessageContaining("overflows");

        ProcessGroup pg = ProcessGroup.of(2, 2);
        assertThatThrownBy(() -> pg.forRank(4))
                .isInstanceOf(SpecException.class)
                .hasMessage("rank 4 out of range for a world of 4 ranks (tp 2 x dp 2)");
        assertThatThrownBy(() -> pg.forRank(-1))
                .isInstanceOf(SpecException.class).hasMessageContaining("rank -1 out of range");
        assertThatThrownBy(() -> pg.tpGroupRanks(2))
                .isInstanceOf(SpecException.class).hasMessage("dp rank 2 out of range for dpDegree 2");
        assertThatThrownBy(() -> pg.dpGroupRanks(5))
                .isInstanceOf(SpecException.class).hasMessage("tp rank 5 out of range for tpDegree 2");
        assertThatThrownBy(() -> pg.globalRank(0, 2))
                .isInstanceOf(SpecException.class).hasMessageContaining("tp rank 2 out of range");
    }
}

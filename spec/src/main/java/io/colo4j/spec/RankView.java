package io.colo4j.spec;

import java.util.Arrays;

/**
 * One global rank's coordinates in a {@link ProcessGroup} and the members of the two sub-groups
 * it belongs to, all derived from the group and the global rank. Built by
 * {@link ProcessGroup#forRank(int)}; the arrays are fresh on every call.
 */
public record RankView(ProcessGroup group, int globalRank) {

    public RankView {
        group.checkGlobalRank(globalRank);
    }

    public int tpRank() {
        return group.tpRankOf(globalRank);
    }

    public int dpRank() {
        return group.dpRankOf(globalRank);
    }

    public int[] tpGroupRanks() {
        return group.tpGroupRanks(dpRank());
    }

    public int[] dpGroupRanks() {
        return group.dpGroupRanks(tpRank());
    }

    public int tpDegree() {
        return group.tpDegree();
    }

    public int dpDegree() {
        return group.dpDegree();
    }

    @Override
    public String toString() {
        return "rank " + globalRank + " (tp " + tpRank() + "/" + group.tpDegree() + ", dp " + dpRank() + "/"
                + group.dpDegree() + ", tp group " + Arrays.toString(tpGroupRanks()) + ", dp group "
                + Arrays.toString(dpGroupRanks()) + ")";
    }
}

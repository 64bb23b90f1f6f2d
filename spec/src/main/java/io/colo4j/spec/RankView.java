package io.colo4j.spec;

import java.util.Arrays;

/**
 * One global rank's coordinates in a {@link ProcessGroup} and the members of the two sub-groups
 * it belongs to. Built by {@link ProcessGroup#forRank(int)}; the arrays are copies.
 */
public record RankView(
        ProcessGroup group, int globalRank, int tpRank, int dpRank, int[] tpGroupRanks, int[] dpGroupRanks) {

    public RankView {
        tpGroupRanks = tpGroupRanks.clone();
        dpGroupRanks = dpGroupRanks.clone();
    }

    @Override
    public int[] tpGroupRanks() {
        return tpGroupRanks.clone();
    }

    @Override
    public int[] dpGroupRanks() {
        return dpGroupRanks.clone();
    }

    public int tpDegree() {
        return group.tpDegree();
    }

    public int dpDegree() {
        return group.dpDegree();
    }

    @Override
    public boolean equals(Object o) {
        // The group and the global rank determine everything else.
        return o instanceof RankView other && group.equals(other.group) && globalRank == other.globalRank;
    }

    @Override
    public int hashCode() {
        return 31 * group.hashCode() + globalRank;
    }

    @Override
    public String toString() {
        return "rank " + globalRank + " (tp " + tpRank + "/" + group.tpDegree() + ", dp " + dpRank + "/"
                + group.dpDegree() + ", tp group " + Arrays.toString(tpGroupRanks) + ", dp group "
                + Arrays.toString(dpGroupRanks) + ")";
    }
}

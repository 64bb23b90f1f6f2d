package io.colo4j.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A world of {@code tpDegree * dpDegree} global ranks arranged as a dp x tp mesh (ColossalAI's
 * {@code ProcessGroup}, without the communicators: those live with whoever talks to the network).
 *
 * <p>Megatron's convention: the ranks of one tp group are adjacent, so
 * {@code globalRank = dpRank * tpDegree + tpRank}. Adjacent ranks usually share a node, and tp
 * is the chattiest dimension (a collective per layer), so it gets the fastest links.
 */
@JsonPropertyOrder({"tpDegree", "dpDegree"})
public record ProcessGroup(int tpDegree, int dpDegree) {

    @JsonCreator
    public ProcessGroup(
            @JsonProperty(value = "tpDegree", required = true) int tpDegree,
            @JsonProperty(value = "dpDegree", required = true) int dpDegree) {
        if (tpDegree < 1) {
            throw new SpecException("process group tpDegree must be >= 1, got " + tpDegree);
        }
        if (dpDegree < 1) {
            throw new SpecException("process group dpDegree must be >= 1, got " + dpDegree);
        }
        if ((long) tpDegree * dpDegree > Integer.MAX_VALUE) {
            throw new SpecException("process group tpDegree " + tpDegree + " x dpDegree " + dpDegree
                    + " overflows an int world size");
        }
        this.tpDegree = tpDegree;
        this.dpDegree = dpDegree;
    }

    public static ProcessGroup of(int tpDegree, int dpDegree) {
        return new ProcessGroup(tpDegree, dpDegree);
    }

    /** As {@link #of(int, int)}, checked against the world the launcher actually started. */
    public static ProcessGroup of(int tpDegree, int dpDegree, int worldSize) {
        ProcessGroup group = new ProcessGroup(tpDegree, dpDegree);
        if (group.worldSize() != worldSize) {
            throw new SpecException("process group tpDegree " + tpDegree + " x dpDegree " + dpDegree + " = "
                    + group.worldSize() + " ranks does not match the world size " + worldSize);
        }
        return group;
    }

    public int worldSize() {
        return tpDegree * dpDegree;
    }

    public int globalRank(int dpRank, int tpRank) {
        checkTpRank(tpRank);
        checkDpRank(dpRank);
        return dpRank * tpDegree + tpRank;
    }

    public int tpRankOf(int globalRank) {
        checkGlobalRank(globalRank);
        return globalRank % tpDegree;
    }

    public int dpRankOf(int globalRank) {
        checkGlobalRank(globalRank);
        return globalRank / tpDegree;
    }

    /** The global ranks of the tp group at data-parallel index {@code dpRank}, in tp-rank order. */
    public int[] tpGroupRanks(int dpRank) {
        checkDpRank(dpRank);
        return IntStream.range(0, tpDegree).map(tp -> dpRank * tpDegree + tp).toArray();
    }

    /** The global ranks of the dp group at tensor-parallel index {@code tpRank}, in dp-rank order. */
    public int[] dpGroupRanks(int tpRank) {
        checkTpRank(tpRank);
        return IntStream.range(0, dpDegree).map(dp -> dp * tpDegree + tpRank).toArray();
    }

    /** Every tp group, indexed by dp rank. */
    public List<int[]> tpGroups() {
        return IntStream.range(0, dpDegree).mapToObj(this::tpGroupRanks).toList();
    }

    /** Every dp group, indexed by tp rank. */
    public List<int[]> dpGroups() {
        return IntStream.range(0, tpDegree).mapToObj(this::dpGroupRanks).toList();
    }

    /** Everything one rank needs to know about its place in the mesh. */
    public RankView forRank(int globalRank) {
        return new RankView(this, globalRank);
    }

    @Override
    public String toString() {
        return "ProcessGroup(tp=" + tpDegree + ", dp=" + dpDegree + ")";
    }

    void checkGlobalRank(int globalRank) {
        if (globalRank < 0 || globalRank >= worldSize()) {
            throw new SpecException("rank " + globalRank + " out of range for a world of " + worldSize()
                    + " ranks (tp " + tpDegree + " x dp " + dpDegree + ")");
        }
    }

    private void checkTpRank(int tpRank) {
        if (tpRank < 0 || tpRank >= tpDegree) {
            throw new SpecException("tp rank " + tpRank + " out of range for tpDegree " + tpDegree);
        }
    }

    private void checkDpRank(int dpRank) {
        if (dpRank < 0 || dpRank >= dpDegree) {
            throw new SpecException("dp rank " + dpRank + " out of range for dpDegree " + dpDegree);
        }
    }
}

package io.colo4j.tensor.colo;

import io.colo4j.spec.RankView;
import io.colo4j.tensor.comm.Communicator;
import java.util.Objects;

/**
 * What one rank needs to run distributed ops: its coordinates in the dp x tp mesh, the tp and dp
 * sub-communicators, the device its kernels run on, and where its collectives are traced.
 */
public final class DistContext {
    private final RankView rank;
    private final Communicator tp;
    private final Communicator dp;
    private final String device;
    private final CommTrace trace = new CommTrace();

    public DistContext(RankView rank, Communicator tp, Communicator dp, String device) {
        this.rank = Objects.requireNonNull(rank);
        this.tp = Objects.requireNonNull(tp);
        this.dp = Objects.requireNonNull(dp);
        this.device = Objects.requireNonNull(device);
        if (tp.size() != rank.tpDegree() || dp.size() != rank.dpDegree()) {
            throw new IllegalArgumentException("communicators of size tp=" + tp.size() + ", dp=" + dp.size()
                    + " do not match the process group " + rank.group());
        }
    }

    public RankView rank() {
        return rank;
    }

    public Communicator tp() {
        return tp;
    }

    public Communicator dp() {
        return dp;
    }

    public int tpRank() {
        return tp.rank();
    }

    public int tpSize() {
        return tp.size();
    }

    public String device() {
        return device;
    }

    public CommTrace trace() {
        return trace;
    }

    /** Records a collective an op issued itself (not through {@link Redistributor}) under the current op scope. */
    public void traceCollective(io.colo4j.spec.placement.CollectiveKind kind, long bytes, CommTrace.Phase phase) {
        if (kind.communicates()) {
            trace.add(new CommTrace.Record(OpScope.currentModule(), OpScope.currentOp(), kind, bytes, phase));
        }
    }
}

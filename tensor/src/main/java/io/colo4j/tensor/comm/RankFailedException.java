package io.colo4j.tensor.comm;

/**
 * Thrown by {@link ThreadWorld#call} / {@link ThreadWorld#run} when a rank's body failed: the first
 * failure, with the rank number in the message; its cause is what the rank threw. Failures of the other
 * ranks (usually {@link CommAbortedException}s caused by the first) are attached as suppressed.
 */
public final class RankFailedException extends RuntimeException {
    private final int rank;
    private final int worldSize;

    public RankFailedException(int rank, int worldSize, Throwable cause) {
        super("rank " + rank + " of " + worldSize + " failed: " + cause, cause);
        this.rank = rank;
        this.worldSize = worldSize;
    }

    public int worldSize() {
        return worldSize;
    }

    public int rank() {
        return rank;
    }
}

package io.colo4j.tensor.comm;

/**
 * A collective was abandoned because another rank of the world failed (threw, timed out) or left
 * without joining it. {@link #failedRank()} is that rank's world rank; the cause, when the failure
 * was an exception, is that exception.
 */
public final class CommAbortedException extends CommException {
    private final int failedRank;

    public CommAbortedException(String collective, int rank, int failedRank, String message, Throwable cause) {
        super(collective, rank, message, cause);
        this.failedRank = failedRank;
    }

    /** World rank of the rank whose failure aborted the collective. */
    public int failedRank() {
        return failedRank;
    }
}

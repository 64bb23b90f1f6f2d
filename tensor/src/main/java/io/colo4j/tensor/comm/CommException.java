package io.colo4j.tensor.comm;

/**
 * A collective that cannot complete or was called wrongly. The message always names the collective
 * and the calling rank; subclasses say why (inputs disagree across ranks, a peer failed, a peer never
 * arrived).
 */
public class CommException extends RuntimeException {
    private final String collective;
    private final int rank;

    public CommException(String collective, int rank, String message) {
        this(collective, rank, message, null);
    }

    public CommException(String collective, int rank, String message, Throwable cause) {
        super(message, cause);
        this.collective = collective;
        this.rank = rank;
    }

    /** The collective that failed, e.g. {@code "allReduce"}. */
    public String collective() {
        return collective;
    }

    /** The rank (in the communicator the collective was called on) that threw this exception. */
    public int rank() {
        return rank;
    }
}

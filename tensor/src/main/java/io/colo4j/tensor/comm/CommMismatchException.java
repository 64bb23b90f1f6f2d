package io.colo4j.tensor.comm;

/**
 * The ranks called a collective with inputs that do not fit together (different shapes, different
 * arguments, a dim not divisible by the group size, different collectives). Every rank of the group
 * throws it with the same description, so no rank is left waiting; the communicator stays usable.
 */
public final class CommMismatchException extends CommException {
    public CommMismatchException(String collective, int rank, String message) {
        super(collective, rank, message);
    }
}

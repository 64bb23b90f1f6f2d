package io.colo4j.tensor.comm;

import java.util.List;

/**
 * Some ranks did not arrive at a collective within the communicator's timeout. {@link #missingRanks()}
 * are ranks of the communicator the collective was called on.
 */
public final class CommTimeoutException extends CommException {
    private final List<Integer> missingRanks;

    public CommTimeoutException(String collective, int rank, List<Integer> missingRanks, String message) {
        super(collective, rank, message);
        this.missingRanks = List.copyOf(missingRanks);
    }

    public List<Integer> missingRanks() {
        return missingRanks;
    }
}

package io.colo4j.zoo.nn;

import io.colo4j.tensor.IntTensor;
import java.util.Arrays;

/** The check each family's forward makes on its input ids before embedding them. */
public final class TokenIds {
    private TokenIds() {
    }

    /** The sequence length T of {@code ids}, refused unless they are [batch, seq]. */
    public static int seqLength(IntTensor ids, String family) {
        int[] s = ids.shape();
        if (s.length != 2) {
            throw new IllegalArgumentException(family + ": input ids must be [batch, seq], got " + Arrays.toString(s));
        }
        return s[1];
    }

    /**
     * The sequence length T of {@code ids} [batch, seq], also refused when the learned position table
     * (the config field {@code positionsField}, {@code positions} rows) is too short for it.
     */
    public static int seqLength(IntTensor ids, String family, String positionsField, int positions) {
        int t = seqLength(ids, family);
        if (t > positions) {
            throw new IllegalArgumentException(family + ": sequence of " + t + " tokens is longer than " + positionsField + " " + positions);
        }
        return t;
    }
}

package io.colo4j.zoo.memory;

import java.util.Locale;

/** A byte count as messages print it: GiB (MiB below one GiB) to one decimal, and the exact count. */
public final class ByteSize {
    private ByteSize() {}

    public static String of(long bytes) {
        boolean small = bytes < (1L << 30);
        return String.format(Locale.ROOT, "%.1f %s (%,d bytes)", bytes / (double) (small ? 1L << 20 : 1L << 30), small ? "MiB" : "GiB", bytes);
    }
}

package io.colo4j.zoo.memory;

import java.util.Locale;

/** A byte count as messages print it: GiB to one decimal, and the exact count. */
public final class ByteSize {
    private ByteSize() {}

    public static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB (%,d bytes)", bytes / (double) (1L << 30), bytes);
    }
}

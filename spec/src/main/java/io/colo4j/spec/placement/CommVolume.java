package io.colo4j.spec.placement;

/** The bytes one rank sends and receives during a collective (the busiest rank where they differ). */
public record CommVolume(long sendBytesPerRank, long receiveBytesPerRank) {
    public static final CommVolume ZERO = new CommVolume(0, 0);

    public static CommVolume symmetric(long bytesPerRank) {
        return new CommVolume(bytesPerRank, bytesPerRank);
    }

    public boolean isZero() {
        return sendBytesPerRank == 0 && receiveBytesPerRank == 0;
    }

    @Override
    public String toString() {
        return "send " + sendBytesPerRank + " B, receive " + receiveBytesPerRank + " B per rank";
    }
}

package io.colo4j.ops.kernel;

import io.colo4j.tensor.Init;

/**
 * Which elements dropout drops, as a pure function of (seed, global element index): element g is
 * dropped when {@code Init.Random.unit(seed, g) <= p}, evaluated in integers so every backend (CPU,
 * OpenCL C) gets the same bits. unit = ((bits >>> 11) + 1) * 2^-53 with bits = mix(mix(seed) + g * golden),
 * so unit <= p exactly when (bits >>> 11) + 1 <= floor(p * 2^53).
 */
public record DropoutBits(long base, long threshold, float keep) {
    /** The golden-ratio increment of the counter (Init.Random's). */
    public static final long GOLDEN = 0x9e3779b97f4a7c15L;

    /**
     * The mask of probability {@code p} (in [0, 1)) and stream {@code seed}: base = mix(seed), what the counter
     * is added to; threshold = floor(p * 2^53), an element is dropped when its 53 random bits + 1 are at most
     * this; keep = 1 / (1 - p), the kept elements' factor.
     */
    public static DropoutBits of(float p, long seed) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        }
        return new DropoutBits(Init.Random.mix(seed), (long) Math.floor(p * 0x1.0p53), 1f / (1f - p));
    }

    /**
     * True when nothing is dropped and kept elements keep their value (p == 0: eval, or no dropout): the mask is then
     * the identity, bit for bit, and needs no draws.
     */
    public boolean keepsAll() {
        return threshold == 0 && keep == 1f;
    }

    /** The element at global index {@code g}'s factor: 0 when dropped, else 1 / (1 - p). */
    public float scale(long g) {
        return (Init.Random.mix(base + g * GOLDEN) >>> 11) + 1 <= threshold ? 0f : keep;
    }
}

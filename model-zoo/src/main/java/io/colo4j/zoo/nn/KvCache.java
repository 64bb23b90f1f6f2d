package io.colo4j.zoo.nn;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * The keys and values of the tokens a causal LM has already read, per attention layer, so that reading one more
 * token costs one token's projections plus attention over the cached ones, not a rerun of the prefix. A forward
 * with a cache reads the tokens after {@link #length()} (their positions continue from it), each attention layer
 * {@link #extend extends} its entry with the new tokens' k and v ([B, heads, T, hd], as sharded as the heads: at
 * tp each rank caches its own heads, nothing is gathered), and the model {@link #advance advances} the cache once
 * all its layers have. Entries live outside any step's {@link MemoryScope}, so a scope per token frees that
 * token's activations while the cache carries on.
 */
public final class KvCache {
    private final Map<String, Tensor[]> entries = new HashMap<>();
    private int length;

    /** How many tokens the cache holds: the position of the next token. */
    public int length() {
        return length;
    }

    /**
     * The positions of {@code t} new tokens, {@code offset} added (OPT's learned positions start at 2), refused when
     * the model's position table ({@code field} of the {@code family}'s config, {@code positions} long) ends first.
     */
    public int[] positions(int t, int offset, String family, String field, int positions) {
        if (length == 0 && t > positions) {
            throw new IllegalArgumentException(family + ": sequence of " + t + " tokens is longer than " + field + " " + positions);
        }
        if (length + t > positions) {
            throw new IllegalArgumentException(family + ": " + length + " cached + " + t + " new tokens = " + (length + t)
                    + " positions, more than " + field + " " + positions);
        }
        int[] out = new int[t];
        for (int i = 0; i < t; i++) {
            out[i] = length + i + offset;
        }
        return out;
    }

    /** The positions 0 .. t-1 (plus {@code offset}) without a cache, the cached ones after it. */
    public static int[] positions(KvCache cache, int t, int offset, String family, String field, int positions) {
        return cache == null ? new KvCache().positions(t, offset, family, field, positions) : cache.positions(t, offset, family, field, positions);
    }

    /**
     * Appends the new tokens' {@code k} and {@code v} [B, H, T, hd] to {@code layer}'s entry and returns the
     * whole {k, v} [B, H, length + T, hd] to attend over.
     */
    public Tensor[] extend(String layer, Tensor k, Tensor v) {
        Tensor[] past = entries.get(layer);
        Tensor[] all;
        try (MemoryScope ignored = MemoryScope.persistent()) {
            // a copy even of the first tokens' k, v: the step's scope frees theirs
            all = past == null ? new Tensor[] {Tensor.cat(2, k), Tensor.cat(2, v)} : new Tensor[] {Tensor.cat(2, past[0], k), Tensor.cat(2, past[1], v)};
        }
        if (past != null && past[0].globalShape()[2] != length) {
            throw new IllegalStateException(layer + ": extended twice for the same tokens (the model did not advance the cache)");
        }
        entries.put(layer, all);
        return all;
    }

    /** Counts the {@code t} tokens a forward just read as cached (the model calls this once every layer has extended). */
    public void advance(int t) {
        length += t;
    }
}

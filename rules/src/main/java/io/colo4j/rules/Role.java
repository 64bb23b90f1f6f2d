package io.colo4j.rules;

import java.util.Arrays;
import io.colo4j.spec.WireNames;
import java.util.stream.Collectors;

/**
 * The spec a rule gives a parameter, named by its Megatron role rather than by a physical dim.
 *
 * <ul>
 *   <li>{@code column}: split the layer's output features. A 2-d weight is split on
 *       {@link io.colo4j.tensor.nn.WeightLayout#outDim()} of its module's layout (dim 0 of a torch
 *       Linear [out, in], dim 1 of an HF Conv1D [in, out] or of an embedding table [vocab, dim]);
 *       a 1-d parameter (the bias) on dim 0. {@code stride} splits each of that many equal blocks
 *       (fused qkv = 3, fused kv = 2).</li>
 *   <li>{@code row}: split the layer's input features: a 2-d weight on
 *       {@link io.colo4j.tensor.nn.WeightLayout#inDim()}. A 1-d parameter reached through {@code "*"}
 *       (the bias of a row layer, added after the all-reduce) is replicated; naming a 1-d parameter
 *       explicitly as {@code row} is an error.</li>
 *   <li>{@code vocab}: a vocab-parallel embedding table [vocab, dim]: dim 0 split, padded with zero
 *       rows up to a multiple of tp (Megatron's make-vocab-size-divisible).</li>
 *   <li>{@code replicate}: every rank holds the whole parameter.</li>
 * </ul>
 */
public enum Role {
    COLUMN, ROW, VOCAB, REPLICATE;

    /** The name used in rules files. */
    public String wireName() {
        return WireNames.of(this);
    }

    /** Whether the parameter is split (not every 1-d parameter of a row layer is). */
    public boolean shards() {
        return this != REPLICATE;
    }

    /** The constant spelled {@code name} in rules files, or {@code null} (the reader reports it with a suggestion). */
    public static Role fromWireName(String name) {
        return WireNames.find(Role.class, name);
    }

    public static String wireNames() {
        return Arrays.stream(values()).map(r -> "'" + r.wireName() + "'").collect(Collectors.joining(", "));
    }
}

package io.colo4j.spec;

import com.fasterxml.jackson.annotation.JsonCreator;

/** The three ways a tensor can sit on a tp group; the placement algebra's tables are keyed by it. */
public enum PlacementKind implements WireNames.Named {
    /** Every rank holds the whole tensor. */
    REPLICATE,
    /** Every rank holds a distinct piece; the pieces tile the tensor. */
    SHARD,
    /** Every rank holds a full-shape summand; the tensor is their sum. */
    PARTIAL;

    @JsonCreator
    public static PlacementKind fromWireName(String wireName) {
        return WireNames.parse(PlacementKind.class, wireName);
    }
}

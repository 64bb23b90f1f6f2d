package io.colo4j.spec;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * The parallel algorithm an operator follows (ColossalAI's {@code ComputePattern}). Only 1-D
 * (Megatron) tensor parallelism exists here; 2-D, 2.5-D and 3-D would be new constants.
 */
public enum ComputePattern implements WireNames.Named {
    TP1D;

    @JsonCreator
    public static ComputePattern fromWireName(String wireName) {
        return WireNames.parse(ComputePattern.class, wireName);
    }
}

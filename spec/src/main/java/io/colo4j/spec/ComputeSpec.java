package io.colo4j.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * How an operator computes on a parameter (ColossalAI's {@code ComputeSpec}).
 *
 * <p>{@code outputReplicate} is ColossalAI's {@code set_output_replicate}: when true the op
 * gathers/reduces its output back to a replica (a column-parallel linear all-gathers, a
 * row-parallel one all-reduces); when false the output stays sharded or partial so that the next
 * op can consume it without communication (Megatron's column-then-row MLP pairing). It defaults
 * to true, as ColossalAI's {@code ComputeSpec(..)}: an op that returns a replica is always
 * correct, and a model opts into keeping outputs distributed where it knows the next op copes.
 *
 * <p>{@code sequenceParallel} is Megatron's sequence parallelism for such a replicated output: the
 * partial sums of a row-parallel (or vocab-parallel embedding) output are reduce-scattered along the
 * token dim (the one before the features) instead of all-reduced, so the ops up to the next
 * column-parallel layer (norms, dropout, residual adds) each hold 1/tp of the tokens; that layer's
 * input is then all-gathered (backward: reduce-scatter). Set by the rules' {@code "sequence_parallel"}.
 */
@JsonPropertyOrder({"pattern", "outputReplicate", "sequenceParallel"})
public record ComputeSpec(ComputePattern pattern, boolean outputReplicate,
                          @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean sequenceParallel) {

    public ComputeSpec {
        if (pattern == null) {
            throw new SpecException("compute spec needs a pattern, e.g. " + ComputePattern.TP1D.wireName());
        }
    }

    /** Without sequence parallelism. */
    public ComputeSpec(ComputePattern pattern, boolean outputReplicate) {
        this(pattern, outputReplicate, false);
    }

    /** With {@code outputReplicate = true}, ColossalAI's default. */
    public ComputeSpec(ComputePattern pattern) {
        this(pattern, true);
    }

    /** 1-D tensor parallelism with a replicated output. */
    public static ComputeSpec tp1d() {
        return new ComputeSpec(ComputePattern.TP1D, true);
    }

    public ComputeSpec withOutputReplicate(boolean outputReplicate) {
        return new ComputeSpec(pattern, outputReplicate, sequenceParallel);
    }

    public ComputeSpec withSequenceParallel(boolean on) {
        return new ComputeSpec(pattern, outputReplicate, on);
    }

    /** JSON may omit {@code outputReplicate}; it then takes the same default as the Java API. */
    @JsonCreator
    static ComputeSpec fromJson(
            @JsonProperty(value = "pattern", required = true) ComputePattern pattern,
            @JsonProperty("outputReplicate") Boolean outputReplicate,
            @JsonProperty("sequenceParallel") Boolean sequenceParallel) {
        return new ComputeSpec(pattern, outputReplicate == null || outputReplicate, sequenceParallel != null && sequenceParallel);
    }

    @Override
    public String toString() {
        return "compute(" + pattern.wireName() + ", outputReplicate=" + outputReplicate
                + (sequenceParallel ? ", sequenceParallel" : "") + ")";
    }
}

package io.colo4j.spec;

/**
 * Every rank holds a tensor of the full shape and the true value is the sum over the group, as
 * the output of a row-parallel linear before its all-reduce (DTensor's {@code Partial("sum")}).
 *
 * <p>Sum is the only reduction: it is the one the tensor-parallel mappings need, and a max or
 * mean would change which conversions are exact, so it would be a different spec, not a field.
 */
public record PartialSpec() implements DistSpec {
    /** All partial-sum specs are equal; this one saves the allocation. */
    public static final PartialSpec INSTANCE = new PartialSpec();

    @Override
    public String toString() {
        return "partial(sum)";
    }
}

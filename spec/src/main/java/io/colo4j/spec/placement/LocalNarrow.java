package io.colo4j.spec.placement;

import java.util.Objects;

/**
 * A narrow (slice, split, chunk) that runs locally: narrow each rank's shard along {@link #dim()}
 * from {@link #localStart()} for {@link #localLength()} elements; the result is {@link #output()}.
 */
public record LocalNarrow(PlacedShape output, int dim, int localStart, int localLength)
        implements RunsLocally<LocalNarrow> {

    public LocalNarrow {
        Objects.requireNonNull(output.spec(), "outputSpec");
    }

    @Override
    public String toString() {
        return "local narrow(dim " + dim + ", start " + localStart + ", length " + localLength + ") -> " + output;
    }
}

package io.colo4j.spec.placement;

import java.util.Objects;

/**
 * A concatenation that runs locally: concatenate the ranks' shards, in input order, along
 * {@link #dim()}; the result is {@link #output()}.
 */
public record LocalCat(PlacedShape output, int dim) implements RunsLocally<LocalCat> {

    public LocalCat {
        Objects.requireNonNull(output.spec(), "outputSpec");
    }

    @Override
    public String toString() {
        return "local cat(dim " + dim + ") -> " + output;
    }
}

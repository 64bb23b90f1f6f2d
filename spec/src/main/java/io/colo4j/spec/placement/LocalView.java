package io.colo4j.spec.placement;

import java.util.Arrays;
import java.util.Objects;

/**
 * A view (reshape, flatten, unflatten, squeeze, unsqueeze) that runs locally: view each rank's
 * shard as {@link #localShape()} (explicit, no {@code -1}); the result is {@link #output()}.
 */
public record LocalView(PlacedShape output) implements RunsLocally<LocalView> {

    public LocalView {
        Objects.requireNonNull(output.spec(), "outputSpec");
    }

    @Override
    public String toString() {
        return "local view to " + Arrays.toString(localShape()) + " -> " + output;
    }
}

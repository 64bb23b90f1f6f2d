package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;

/**
 * The local half of a {@link LocalPlan}: the op runs on every rank's shard, and its result is
 * {@link #output()}, the global shape laid out as a spec with the local shape each rank gets.
 *
 * @param <L> the implementing plan itself
 */
public sealed interface RunsLocally<L extends LocalPlan<L>> extends LocalPlan<L> permits LocalView, LocalNarrow, LocalCat {

    /** The result: its global shape, its spec (dims non-negative) and each rank's local shape. */
    PlacedShape output();

    default DistSpec outputSpec() {
        return output().spec();
    }

    default int[] globalShape() {
        return output().globalShape();
    }

    default int[] localShape() {
        return output().localShape();
    }

    @Override
    default boolean isLocal() {
        return true;
    }

    @Override
    @SuppressWarnings("unchecked")
    default L orThrow() {
        // Safe: each permitted record implements RunsLocally of its own type.
        return (L) this;
    }
}

package io.colo4j.spec.placement;

/**
 * What {@link ViewAlgebra} says about one view-family op on a distributed tensor: either it runs
 * on every rank's local shard with the local arguments given ({@link LocalView},
 * {@link LocalNarrow}, {@link LocalCat}), or it cannot, and the inputs have to be redistributed
 * first ({@link NotLocal}).
 *
 * <p>The type parameter is the local plan of the op, so a switch over
 * {@code LocalPlan<LocalView>} needs only the cases {@code LocalView} and {@code NotLocal}:
 * <pre>{@code
 * switch (ViewAlgebra.view(name, globalIn, spec, tp, globalOut)) {
 *     case LocalView v -> local.view(v.localShape());           // output spec v.outputSpec()
 *     case NotLocal<LocalView> n -> redistribute(n.requiredInputSpec());
 * }
 * }</pre>
 *
 * @param <L> the op's local plan type
 */
public sealed interface LocalPlan<L extends LocalPlan<L>> permits RunsLocally, NotLocal {

    /** Whether the op runs on the local shards without communication. */
    boolean isLocal();

    /** This plan when it is local; otherwise a {@link io.colo4j.spec.SpecException} with the reason. */
    L orThrow();
}

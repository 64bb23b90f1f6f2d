package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.SpecException;
import java.util.List;
import java.util.Objects;

/**
 * A view-family op that cannot run on the inputs' current layouts.
 *
 * @param op the op's name ({@code view}, {@code narrow}, {@code cat})
 * @param reason why, naming the tensor, its shapes, its spec and the group size
 * @param requiredInputSpecs one spec per input (one for view and narrow) under which the op is
 *     local; redistribute the inputs to these first
 * @param <L> the local plan type the op would have produced
 */
public record NotLocal<L extends LocalPlan<L>>(String op, String reason, List<DistSpec> requiredInputSpecs)
        implements LocalPlan<L> {

    public NotLocal {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(reason, "reason");
        requiredInputSpecs = List.copyOf(requiredInputSpecs);
        if (requiredInputSpecs.isEmpty()) {
            throw new SpecException("a non-local " + op + " needs at least one required input spec: " + reason);
        }
    }

    /** The spec the (first) input needs; for view and narrow, the only input. */
    public DistSpec requiredInputSpec() {
        return requiredInputSpecs.getFirst();
    }

    @Override
    public boolean isLocal() {
        return false;
    }

    @Override
    public L orThrow() {
        throw new SpecException(reason);
    }

    @Override
    public String toString() {
        return "not local: " + reason + " (needs " + requiredInputSpecs + ")";
    }
}

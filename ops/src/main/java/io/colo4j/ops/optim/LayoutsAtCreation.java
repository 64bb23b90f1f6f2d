package io.colo4j.ops.optim;

import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each parameter's layout when an optimizer was created. Its state is sized to that layout, so a parameter
 * re-laid out afterwards (ShardingRules.apply on a model whose optimizer already exists) would keep full-size
 * state on every rank and update the shard with the wrong elements: refused, naming the parameter.
 */
final class LayoutsAtCreation {
    private final String optimizer;
    private final Map<String, DistSpec> specs = new LinkedHashMap<>();
    private final Map<String, Tensor> params = new LinkedHashMap<>();

    LayoutsAtCreation(String optimizer) {
        this.optimizer = optimizer;
    }

    void record(String name, Tensor param) {
        params.put(name, param);
        specs.put(name, specOf(param));
    }

    /** Throws naming the first parameter whose layout differs from the one recorded. */
    void requireUnchanged() {
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            DistSpec then = specs.get(e.getKey());
            DistSpec now = specOf(e.getValue());
            if (!java.util.Objects.equals(then, now)) {
                throw new IllegalStateException(optimizer + ": parameter '" + e.getKey() + "' was laid out as " + then
                        + " when this optimizer was created and is " + now + " now; its state is sized for the old layout."
                        + " Create the optimizer after ShardingRules.apply (or any setSpec)");
            }
        }
    }

    private static DistSpec specOf(Tensor param) {
        return param instanceof ColoParameter c ? c.spec() : null;
    }
}

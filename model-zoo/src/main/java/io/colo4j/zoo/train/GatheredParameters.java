package io.colo4j.zoo.train;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * For saving a sharded model with its family's own (serial) checkpoint code: every rank joins the
 * gathers, then each sharded parameter holds its whole, unpadded value until {@link #close} puts the
 * shard back. Saving code reads only shapes and contiguous data, so it never notices the swap; no op
 * may run on the model meanwhile.
 */
final class GatheredParameters implements AutoCloseable {
    private final List<Parameter> swapped = new ArrayList<>();
    private final List<Tensor> shards = new ArrayList<>();
    private final List<Tensor> wholes = new ArrayList<>();

    private GatheredParameters() {}

    /** Collective over the tp group: every rank must call it, in the same order. */
    static GatheredParameters open(Module model) {
        GatheredParameters g = new GatheredParameters();
        for (Parameter p : model.namedParameters().values()) {
            if (p instanceof ColoParameter colo && !colo.isReplicated() && colo.context().tpSize() > 1) {
                Tensor whole = whole(colo);
                g.swapped.add(p);
                g.shards.add(p.detach());
                g.wholes.add(whole);
                p.setData(whole);
            }
        }
        return g;
    }

    /**
     * Each tensor of {@code locals} (an optimizer moment per parameter, keyed "param.suffix") gathered
     * like its parameter; replicated ones are returned as they are. Collective.
     */
    static Map<String, Tensor> gatherLike(Map<String, Tensor> locals, Map<String, Parameter> params) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : locals.entrySet()) {
            String key = e.getKey();
            Parameter p = params.get(key.substring(0, key.lastIndexOf('.')));
            if (p instanceof ColoParameter colo && !colo.isReplicated() && colo.context().tpSize() > 1) {
                out.put(key, whole(ColoTensor.laidOutAs(e.getValue(), colo)));
            } else {
                out.put(key, e.getValue());
            }
        }
        return out;
    }

    /** {@code sharded.full()}, kept beyond the step (long-lived) and off the graph. */
    private static Tensor whole(Tensor sharded) {
        try (MemoryScope persistent = MemoryScope.persistent(); GradMode.Guard off = GradMode.disabled()) {
            return sharded.full().copy();
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < swapped.size(); i++) {
            swapped.get(i).setData(shards.get(i));
            wholes.get(i).freeStorage();
        }
        swapped.clear();
    }
}

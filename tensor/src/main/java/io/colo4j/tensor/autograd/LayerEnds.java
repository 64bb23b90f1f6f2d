package io.colo4j.tensor.autograd;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Storage;
import io.colo4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The layers whose forward is running on this thread under selective recompute, innermost last, each with what to do
 * when it returns ({@link Recompute#atEndOfLayer}): the dispatcher cannot tell which consumer of a tensor is its
 * last (q, k or v), the layer's end can.
 */
final class LayerEnds {
    private LayerEnds() {}

    private record Open(long firstAllocation, List<Runnable> ends) {}

    private static final ThreadLocal<ArrayDeque<Open>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);

    static Tensor run(Function<Tensor[], Tensor> fn, Tensor[] inputs) {
        Open layer = new Open(MemoryScope.stepAllocations(), new ArrayList<>());
        ArrayDeque<Open> open = OPEN.get();
        open.addLast(layer);
        Tensor out;
        try {
            out = fn.apply(inputs);
        } finally {
            open.removeLast();
        }
        layer.ends().forEach(Runnable::run);
        return out;
    }

    static boolean register(Storage madeInside, Runnable end) {
        Open layer = OPEN.get().peekLast();
        if (layer == null || !madeInside.madeSince(layer.firstAllocation())) {
            return false;
        }
        layer.ends().add(end);
        return true;
    }
}

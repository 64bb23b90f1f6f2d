package io.colo4j.tensor.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Children named 0, 1, 2, ... as torch.nn.ModuleList, so paths read {@code h.0.mlp}. */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final List<M> items = new ArrayList<>();

    public ModuleList<M> add(M module) {
        registerModule(Integer.toString(items.size()), module);
        items.add(module);
        return this;
    }

    public M get(int index) {
        return items.get(index);
    }

    public int size() {
        return items.size();
    }

    @Override
    public Iterator<M> iterator() {
        return List.copyOf(items).iterator();
    }
}

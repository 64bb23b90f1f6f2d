package io.colo4j.ops.optim;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What every AdamW shares, however its moments are laid out: the options and learning rate, each parameter's
 * {@link AdamWMoments} (the fused update, the step count), the state's checks and its (de)serialisation as whole
 * per-parameter moments. {@link AdamW} keeps each parameter's moments whole; {@link ZeroAdamW} one dp chunk.
 */
abstract sealed class AbstractAdamW implements Optimizer permits AdamW, ZeroAdamW {
    private final AdamW.Options options;
    private final Map<String, AdamWMoments> moments = new LinkedHashMap<>();
    private final LayoutsAtCreation layouts = new LayoutsAtCreation(getClass().getSimpleName());
    private double lr;

    AbstractAdamW(AdamW.Options options) {
        this.options = options;
        this.lr = options.lr();
    }

    /** Adds a parameter's moments (in the order parameters are updated and saved). */
    final void add(AdamWMoments m) {
        moments.put(m.name, m);
        layouts.record(m.name, m.param);
    }

    /** Refuses a parameter re-laid out (sharded by rules) since this optimizer was created, naming it. */
    final void requireLayoutsUnchanged() {
        layouts.requireUnchanged();
    }

    final Collection<AdamWMoments> moments() {
        return Collections.unmodifiableCollection(moments.values());
    }

    public final AdamW.Options options() {
        return options;
    }

    @Override
    public final double lr() {
        return lr;
    }

    @Override
    public final void setLr(double lr) {
        if (!(lr >= 0)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be >= 0, got " + lr);
        }
        this.lr = lr;
    }

    /** One AdamW update of {@code m}'s span from {@code grad} (contiguous), whose element {@code m.from} is at {@code gradFrom}. */
    final void update(AdamWMoments m, Tensor grad, long gradFrom) {
        m.update(options, lr, grad, gradFrom);
    }

    @Override
    public final Map<String, Long> stepCounts() {
        Map<String, Long> out = new LinkedHashMap<>();
        moments.values().forEach(m -> out.put(m.name, m.steps));
        return Collections.unmodifiableMap(out);
    }

    @Override
    public final long stateBytes() {
        long floats = 0;
        for (AdamWMoments m : moments.values()) {
            floats += m.expAvg.numel() + m.expAvgSq.numel();
        }
        return floats * Float.BYTES;
    }

    /**
     * Restores what {@link #stateTensors()} and {@link #stepCounts()} returned (whole per-parameter moments); each
     * parameter keeps its span. Every tensor must be present with the right shape; nothing is changed unless all are.
     */
    @Override
    public final void loadState(Map<String, ? extends Tensor> state, Map<String, Long> stepCounts) {
        checkState(state, stepCounts);
        try (GradMode.Guard ignored = GradMode.disabled(); MemoryScope temp = MemoryScope.open()) {
            for (AdamWMoments m : moments.values()) {
                m.load(state.get(AdamWMoments.expAvgKey(m.name)), state.get(AdamWMoments.expAvgSqKey(m.name)), stepCounts.get(m.name));
            }
        }
    }

    /** Throws unless {@code state} holds both moments of every parameter, shaped like it, and {@code stepCounts} its update count. */
    private void checkState(Map<String, ? extends Tensor> state, Map<String, Long> stepCounts) {
        for (AdamWMoments m : moments.values()) {
            int[] shape = m.param.localShape();
            for (String key : new String[] {AdamWMoments.expAvgKey(m.name), AdamWMoments.expAvgSqKey(m.name)}) {
                Tensor t = state.get(key);
                if (t == null) {
                    throw new IllegalArgumentException("AdamW state: missing '" + key + "'");
                }
                if (!Arrays.equals(t.localShape(), shape)) {
                    throw new IllegalArgumentException("AdamW state: '" + key + "' has shape " + Arrays.toString(t.localShape())
                            + " but the parameter is " + Arrays.toString(shape));
                }
            }
            if (!stepCounts.containsKey(m.name)) {
                throw new IllegalArgumentException("AdamW state: no step count for '" + m.name + "'");
            }
        }
    }
}

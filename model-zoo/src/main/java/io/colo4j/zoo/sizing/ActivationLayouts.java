package io.colo4j.zoo.sizing;

import io.colo4j.tensor.autograd.Recompute;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A config's activations per rank at one tp degree in every way a step can hold them (recompute none, selective or
 * full, each with and without sequence parallelism): one {@link ActivationSizing} per layout, each traced with the
 * proxies' steps run under that layout, not modelled from another (what selective recompute gives back, which gathers
 * sequence parallelism keeps or gathers again in backward, differs per family: BERT's post-norm input and T5's
 * encoder output are gathered outside the layer that reads them).
 */
public final class ActivationLayouts {
    /** One way to hold a step's activations. */
    public record Layout(Recompute recompute, boolean sequenceParallel) {
        @Override
        public String toString() {
            return "recompute " + recompute.optionName() + (sequenceParallel ? ", sequence parallel" : "");
        }
    }

    private final Map<Layout, ActivationSizing> byLayout;

    ActivationLayouts(Map<Layout, ActivationSizing> byLayout) {
        this.byLayout = new LinkedHashMap<>(byLayout);
    }

    /** The layouts worth listing at tp: every recompute, each with and (at tp > 1) without sequence parallelism. */
    public static List<Layout> layouts(int tp) {
        List<Layout> out = new ArrayList<>();
        for (Recompute r : Recompute.values()) {
            out.add(new Layout(r, false));
            if (tp > 1) {
                out.add(new Layout(r, true));
            }
        }
        return out;
    }

    /** The sizing of one layout; fails naming it and those traced when it was not. */
    public ActivationSizing of(Layout layout) {
        ActivationSizing a = byLayout.get(layout);
        if (a == null) {
            throw new IllegalArgumentException("no activation sizing of " + layout + "; traced: " + byLayout.keySet());
        }
        return a;
    }

    /** Activation bytes per rank of a step of {@code batch} x {@code seq} tokens held as {@code layout}. */
    public long bytesPerRank(Layout layout, long batch, long seq) {
        return of(layout).bytesPerRank(batch, seq);
    }

    /** The model's layers, all stacks together. */
    public int layers() {
        return byLayout.values().iterator().next().layers();
    }
}

package io.colo4j.cli;

import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.sizing.CommPerStep;
import io.colo4j.zoo.sizing.SizingPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The lines a run prints about its sharding: which rules file, and the tensor-parallel collectives those rules
 * imply for one instance of each distinct layer (from the sizing plan's traced proxy, so the same numbers as
 * {@code plan}), e.g. {@code transformer.h.0-11 x12: forward 2 all_reduce; backward 2 all_reduce}.
 */
final class RulesHeader {
    private RulesHeader() {}

    /**
     * The header of a run of {@code family} (its rules as given) at {@code tp}, on sequences of {@code seq} tokens, its
     * activations under {@code recompute} (full recompute runs each layer's forward collectives again in backward);
     * {@code label} names the config in messages, {@code family} is pinned to it.
     */
    static List<String> lines(ModelZoo.Family family, String label, int tp, int seq, Recompute recompute) {
        List<String> out = new ArrayList<>();
        String source = family.rules().source() + (family.rules().sequenceParallel() ? " (sequence parallel)" : "");
        if (tp == 1) {
            out.add("rules: " + source + " (tp=1: nothing sharded, no collectives)");
            return out;
        }
        SizingPlan plan = SizingPlan.communicationOf(new SizingPlan.Request(family, label, tp, 1, 0, 1, seq, recompute));
        out.add(String.format(Locale.ROOT, "rules: %s; tp collectives of one instance of each layer (a window of %d tokens%s):",
                source, seq, recompute == Recompute.NONE ? "" : ", --recompute " + recompute.name().toLowerCase(Locale.ROOT)));
        for (CommPerStep.LayerTotal layer : plan.communication().byLayer()) {
            if (layer.layer().kind() != CommPerStep.Layer.Kind.DATA_PARALLEL) {
                out.add("  " + describe(layer.layer(), plan.communication().rows()));
            }
        }
        return out;
    }

    /** {@code name xN: forward 2 all_reduce; backward 1 all_reduce, 1 all_gather} for one layer. */
    static String describe(CommPerStep.Layer layer, List<CommPerStep.Row> rows) {
        Map<CommPerStep.Phase, Map<String, Integer>> byPhase = new TreeMap<>();
        for (CommPerStep.Row row : rows) {
            if (row.layer().equals(layer) && row.group() == CommPerStep.Group.TP) {
                byPhase.computeIfAbsent(row.phase(), p -> new TreeMap<>()).merge(row.collective().wireName(), row.count(), Integer::sum);
            }
        }
        String phases = byPhase.isEmpty() ? "none" : byPhase.entrySet().stream()
                .map(e -> e.getKey().name().toLowerCase(Locale.ROOT) + " " + e.getValue().entrySet().stream()
                        .map(c -> c.getValue() + " " + c.getKey()).collect(Collectors.joining(", ")))
                .collect(Collectors.joining("; "));
        return layer.name() + (layer.instances() > 1 ? " x" + layer.instances() : "") + ": " + phases;
    }
}

package io.colo4j.zoo.memory;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.rules.Assignment;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.hf.HfConfig;
import io.colo4j.zoo.hf.HfConfigFormat;
import io.colo4j.zoo.hf.HfFamilyOps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks, before anything is allocated or even built, that a config's model can exist on this machine: a
 * config.json may say n_layer 2^31-1 or vocab_size 1e9, and building that model (even lazily, 2^31 modules)
 * or materialising it would hang the JVM in GC or die of OutOfMemoryError. The bytes per rank come from the
 * one memory model ({@link MemoryPerRank}, the rules' local shapes) of the model cut to one and two layers per
 * stack, extrapolated linearly to the config's layer counts in overflow-checked {@code long}s; they are
 * compared with physical memory (see {@link MachineMemory}: tensors are off-heap) shared by the ranks of
 * this process. Activations are not counted, so a run that passes may still need more; one that fails cannot run.
 */
public final class ModelFits {
    /** What a rank must hold: a training run's parameters, gradients and AdamW moments, or only the parameters (eval). */
    public enum Use { TRAIN, EVAL }

    private ModelFits() {}

    /**
     * Refuses, in one line naming {@code source} and the config's sizes, a model whose bytes per rank times
     * {@code ranksHere} (the ranks of this process) exceed physical memory; returns the bytes per rank.
     */
    public static long require(HfFamilyOps hf, HfConfig config, ShardingRules rules, int tp, int dp, int zero, int ranksHere,
                               Use use, String source) {
        long perRank = bytesPerRank(hf, config, rules, tp, dp, zero, use, source);
        long physical = MachineMemory.physicalBytes();
        long here = perRank > Long.MAX_VALUE / ranksHere ? Long.MAX_VALUE : perRank * ranksHere;
        if (here > physical) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: the model (%s) needs %s per rank for %s at tp=%d dp=%d%s, %s, and this machine has %s of physical memory"
                            + " (tensors live off-heap, so physical memory, not -Xmx, bounds them); use a smaller config or more --tp",
                    source, sizes(hf, config), ByteSize.of(perRank),
                    use == Use.TRAIN ? "parameters, gradients and AdamW moments" : "its parameters", tp, dp,
                    zero > 0 ? " zero=" + zero : "", ranksHere == 1 ? "one rank in this process"
                            : ranksHere + " ranks in this process: " + ByteSize.of(here), ByteSize.of(physical)));
        }
        return perRank;
    }

    /** Bytes per rank, from the model cut to one and two layers per stack; saturates at Long.MAX_VALUE. */
    static long bytesPerRank(HfFamilyOps hf, HfConfig config, ShardingRules rules, int tp, int dp, int zero, Use use, String source) {
        ObjectNode fields = config.format().fieldsOf(config);
        Map<String, Integer> base = new LinkedHashMap<>();
        for (String f : hf.layerFields()) {
            base.put(f, Math.min(fields.get(f).asInt(), 1));
        }
        long baseBytes = bytes(hf, with(config.format(), config, base), rules, tp, dp, zero, use, source);
        long total = baseBytes;
        try {
            for (String f : hf.layerFields()) {
                int layers = fields.get(f).asInt();
                if (layers < 2) {
                    continue;
                }
                Map<String, Integer> two = new LinkedHashMap<>(base);
                two.put(f, 2);
                long perLayer = bytes(hf, with(config.format(), config, two), rules, tp, dp, zero, use, source) - baseBytes;
                total = Math.addExact(total, Math.multiplyExact(perLayer, (long) layers - 1));
            }
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
        return total;
    }

    private static long bytes(HfFamilyOps hf, HfConfig config, ShardingRules rules, int tp, int dp, int zero, Use use, String source) {
        Module lazy = buildLazily(hf, config);
        lazy.namedParameters().forEach((name, p) -> {
            for (int d : p.fullShape()) {
                if (d < 0) { // a family's derived width overflowed int
                    throw new IllegalArgumentException(source + ": the config's sizes overflow: parameter " + name + " would have shape "
                            + java.util.Arrays.toString(p.fullShape()) + " (a dimension beyond 2^31-1)");
                }
            }
        });
        List<MemoryPerRank.Local> locals = new ArrayList<>();
        ShardingPlan plan = rules.plan(lazy, tp);
        if (plan.ok()) {
            for (Assignment a : plan.assignments()) {
                locals.add(new MemoryPerRank.Local(Shapes.numel(a.localShape()), Shapes.numel(a.shape()), a.sharded(), true));
            }
        } else { // the rules will refuse this tp later, naming why; here the even split is a lower bound
            lazy.namedParameters().values().forEach(p -> {
                long numel = Shapes.numel(p.fullShape());
                locals.add(new MemoryPerRank.Local(numel / tp + (numel % tp == 0 ? 0 : 1), numel, true, true));
            });
        }
        MemoryPerRank m = MemoryPerRank.of(locals, tp, dp, zero);
        return use == Use.TRAIN ? m.totalBytes() : m.parameterBytes();
    }

    /** {@code config}'s model with lazy parameters: nothing allocated. */
    public static Module buildLazily(HfFamilyOps hf, HfConfig config) {
        return ThreadWorld.call(1, comm -> {
            try (InitContext ignored = InitContext.open(ProcessGroup.of(1, 1), comm, "cpu")) {
                return hf.build(config, 0L);
            }
        }).get(0);
    }

    private static <C extends Record & HfConfig> HfConfig with(HfConfigFormat<C> format, HfConfig config, Map<String, ?> fields) {
        return format.with(format.type().cast(config), fields);
    }

    /** The config's integer sizes, for the message (n_layer 200000, vocab_size 50257, ...). */
    private static String sizes(HfFamilyOps hf, HfConfig config) {
        List<String> out = new ArrayList<>();
        config.format().fieldsOf(config).properties().forEach(e -> {
            if (e.getValue().isIntegralNumber() && !e.getKey().endsWith("_id")) {
                out.add(e.getKey() + " " + e.getValue());
            }
        });
        return hf.modelType() + " " + String.join(", ", out);
    }
}

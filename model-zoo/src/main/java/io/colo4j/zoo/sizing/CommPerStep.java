package io.colo4j.zoo.sizing;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.SequenceParallelGrads;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * The collectives one rank issues in a training step, per layer: the tensor-parallel ones from a proxy's
 * trace, scaled to the step's tokens ({@link TokenScaling}) and repeated for every layer a proxy layer
 * stands for ({@link ProxyLayers}); the data-parallel ones from the parameter sizes ({@link DpGradientSync}).
 * Consecutive layers of a stack that issue exactly the same collectives are one {@link Layer} with a
 * count ({@code transformer.h.0-47}, 48 instances). Bytes are what one rank sends (ring volumes).
 */
public final class CommPerStep {
    /** Which communicator: the tensor-parallel group or the data-parallel group. */
    public enum Group { TP, DP }

    /** Where in the step: forward, backward (including the dp gradient sync), or after the optimizer update (ZeRO's all-gather). */
    public enum Phase { FORWARD, BACKWARD, OPTIMIZER }

    /** Op name of ZeRO's all-gather of the updated parameter chunks. */
    public static final String ZERO_ALL_GATHER_OP = "zero_param_all_gather";

    /**
     * Layers that issue the same collectives: layers {@code first..last} of a stack, one module outside the
     * stacks ({@code transformer.wte}; the root is {@code (model)}), or the dp gradient sync.
     */
    public record Layer(Kind kind, String name, String stack, int first, int last) {
        public enum Kind { STACK, MODULE, DATA_PARALLEL }

        static final Layer DATA_PARALLEL_SYNC = new Layer(Kind.DATA_PARALLEL, "dp gradient sync", null, 0, 0);

        static Layer stack(String stack, int first, int last) {
            return new Layer(Kind.STACK, stack + "." + (first == last ? Integer.toString(first) : first + "-" + last), stack, first, last);
        }

        static Layer module(String module) {
            return new Layer(Kind.MODULE, module.isEmpty() ? "(model)" : module, null, 0, 0);
        }

        /** How many times the step runs this layer's collectives. */
        public int instances() {
            return kind == Kind.STACK ? last - first + 1 : 1;
        }
    }

    /**
     * {@code count} collectives (1, or one per parameter for the dp sync) of each instance of a layer.
     *
     * @param path  the module path inside the layer for a stack ({@code attn.c_proj}), the whole path otherwise
     * @param bytes per instance; empty when the collective does not grow as batch x seq
     */
    public record Row(Layer layer, String path, String op, CollectiveKind collective, Group group, Phase phase, int count,
                      OptionalLong bytes) {
        /**
         * The module; in a range of a stack's layers with {@code *} for the layer index
         * ({@code transformer.h.*.attn.c_proj}).
         */
        public String module() {
            return switch (layer.kind()) {
                case STACK -> moduleIn(layer.first() == layer.last() ? Integer.toString(layer.first()) : "*");
                case MODULE -> path.isEmpty() ? "(model)" : path;
                case DATA_PARALLEL -> "(every parameter)";
            };
        }

        private String moduleIn(String index) {
            return layer.stack() + "." + index + (path.isEmpty() ? "" : "." + path);
        }

        public long collectivesPerStep() {
            return (long) count * layer.instances();
        }

        public OptionalLong bytesPerStep() {
            return bytes.isPresent() ? OptionalLong.of(Math.multiplyExact(bytes.getAsLong(), layer.instances())) : OptionalLong.empty();
        }
    }

    /** A number of collectives and their bytes; bytes are empty as soon as one of them is unknown. */
    public record Tally(long count, OptionalLong bytes) {
        public static final Tally ZERO = new Tally(0, OptionalLong.of(0));

        Tally plus(long moreCount, OptionalLong moreBytes) {
            OptionalLong sum = bytes.isPresent() && moreBytes.isPresent()
                    ? OptionalLong.of(Math.addExact(bytes.getAsLong(), moreBytes.getAsLong())) : OptionalLong.empty();
            return new Tally(count + moreCount, sum);
        }
    }

    /** Per collective kind, group and phase: how many per step and their bytes. */
    public record CollectiveTotal(Group group, CollectiveKind collective, Phase phase, Tally perStep) {}

    /** Per layer: collectives and bytes of one instance, by phase, and of all its instances. */
    public record LayerTotal(Layer layer, Map<Phase, Tally> perInstance, Tally perStep) {}

    private final List<Row> rows;
    private final List<TokenScaling.Scaled> notLinear;
    private final List<DpGradientSync.Collective> dpCollectives;

    private CommPerStep(List<Row> rows, List<TokenScaling.Scaled> notLinear, List<DpGradientSync.Collective> dpCollectives) {
        this.rows = List.copyOf(rows);
        this.notLinear = List.copyOf(notLinear);
        this.dpCollectives = List.copyOf(dpCollectives);
    }

    /**
     * The step's collectives at {@code tokens} (batch x seq per dp rank) from the proxy's scaled trace,
     * whose layers {@code layers} maps onto the model's, plus the dp collectives, and the one tp all-reduce of the
     * gradients summed after backward ({@link SequenceParallelGrads}), {@code summedGradSendBytes} per rank (0: none) for
     * the model's parameters, in place of the proxy's.
     */
    public static CommPerStep of(List<TokenScaling.Scaled> traced, ProxyLayers layers, StepTrace.Window base,
                                 StepTrace.Window step, List<DpGradientSync.Collective> dp, long summedGradSendBytes) {
        List<TokenScaling.Scaled> proxyStep = traced.stream().filter(s -> !s.record().op().equals(SequenceParallelGrads.OP)).toList();
        // group the proxy's collectives by proxy layer, or by module outside the stacks, in order of first use
        Map<Slot, List<TokenScaling.Scaled>> bySlot = new LinkedHashMap<>();
        for (TokenScaling.Scaled s : proxyStep) {
            String module = s.record().module();
            Slot slot = layers.proxy().locate(module).map(l -> Slot.layer(l.stack(), l.index())).orElseGet(() -> Slot.module(module));
            bySlot.computeIfAbsent(slot, k -> new ArrayList<>()).add(s);
        }
        // in each stack, neighbouring proxy layers that issue the same collectives stand for one range of model layers
        Map<Slot, Layer> layerOf = new HashMap<>();
        layers.proxy().layers().forEach((stack, kept) -> {
            List<List<TokenScaling.Scaled>> perLayer = new ArrayList<>();
            for (int i = 0; i < kept; i++) {
                perLayer.add(bySlot.getOrDefault(Slot.layer(stack, i), List.of()));
            }
            Layer[] merged = mergeAlike(stack, perLayer, layers);
            for (int i = 0; i < kept; i++) {
                layerOf.put(Slot.layer(stack, i), merged[i]);
            }
        });

        List<Row> rows = new ArrayList<>();
        Set<Layer> emitted = new HashSet<>();
        bySlot.forEach((slot, collectives) -> {
            if (slot.stack() == null) {
                Layer layer = Layer.module(slot.module());
                collectives.forEach(s -> rows.add(row(layer, slot.module(), s, base, step)));
            } else if (emitted.add(layerOf.get(slot))) {
                Layer layer = layerOf.get(slot);
                collectives.forEach(s -> rows.add(row(layer, layers.proxy().locate(s.record().module()).orElseThrow().rest(), s, base, step)));
            }
        });
        if (summedGradSendBytes > 0) {
            rows.add(new Row(Layer.module(""), "", SequenceParallelGrads.OP, CollectiveKind.ALL_REDUCE, Group.TP, Phase.BACKWARD, 1,
                    OptionalLong.of(summedGradSendBytes)));
        }
        rows.addAll(dpRows(dp));
        List<TokenScaling.Scaled> notLinear = proxyStep.stream().filter(s -> !s.sized()).toList();
        return new CommPerStep(rows, notLinear, dp);
    }

    /** A proxy layer (stack and index) or a module outside the stacks (null stack). */
    private record Slot(String stack, int index, String module) {
        static Slot layer(String stack, int index) {
            return new Slot(stack, index, null);
        }

        static Slot module(String module) {
            return new Slot(null, -1, module);
        }
    }

    private static Row row(Layer layer, String path, TokenScaling.Scaled s, StepTrace.Window base, StepTrace.Window step) {
        CommTrace.Record r = s.record();
        return new Row(layer, path, r.op(), r.collective(), Group.TP,
                r.phase() == CommTrace.Phase.FORWARD ? Phase.FORWARD : Phase.BACKWARD, 1,
                s.sized() ? OptionalLong.of(s.bytes(base, step.batch(), step.seq())) : OptionalLong.empty());
    }

    /** Proxy layer i of the stack -> the (merged) range of model layers it stands for. */
    private static Layer[] mergeAlike(String stack, List<List<TokenScaling.Scaled>> perLayer, ProxyLayers layers) {
        Layer[] out = new Layer[perLayer.size()];
        int start = 0;
        for (int i = 1; i <= perLayer.size(); i++) {
            if (i == perLayer.size() || !signature(perLayer.get(i), layers).equals(signature(perLayer.get(start), layers))) {
                Layer layer = Layer.stack(stack, layers.modelRange(stack, start)[0], layers.modelRange(stack, i - 1)[1]);
                for (int j = start; j < i; j++) {
                    out[j] = layer;
                }
                start = i;
            }
        }
        return out;
    }

    private record Signature(String path, String op, CollectiveKind collective, CommTrace.Phase phase, long b1, long b2, long b3) {}

    /** A proxy layer's collectives as a multiset, independent of the layer's index. */
    private static Map<Signature, Integer> signature(List<TokenScaling.Scaled> layer, ProxyLayers layers) {
        Map<Signature, Integer> out = new HashMap<>();
        for (TokenScaling.Scaled s : layer) {
            CommTrace.Record r = s.record();
            long[] m = s.measured();
            String path = layers.proxy().locate(r.module()).orElseThrow().rest();
            out.merge(new Signature(path, r.op(), r.collective(), r.phase(), m[0], m[1], m[2]), 1, Integer::sum);
        }
        return out;
    }

    /** The dp collectives summed per kind and phase: one row each, counting one collective per parameter. */
    private static List<Row> dpRows(List<DpGradientSync.Collective> dp) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (DpGradientSync.Collective c : dp) {
            Phase phase = c.when() == DpGradientSync.When.BACKWARD ? Phase.BACKWARD : Phase.OPTIMIZER;
            String op = phase == Phase.BACKWARD ? DataParallel.OP : ZERO_ALL_GATHER_OP;
            rows.merge(c.kind() + "/" + phase, new Row(Layer.DATA_PARALLEL_SYNC, "", op, c.kind(), Group.DP, phase, 1,
                    OptionalLong.of(c.bytes())), (a, b) -> new Row(a.layer(), a.path(), a.op(), a.collective(), a.group(),
                    a.phase(), a.count() + 1, OptionalLong.of(a.bytes().getAsLong() + b.bytes().getAsLong())));
        }
        return new ArrayList<>(rows.values());
    }

    /** Every collective kind of the step, per layer, in order of first use. */
    public List<Row> rows() {
        return rows;
    }

    /** The proxy's collectives that do not grow as batch x seq; their bytes are left out (empty), not guessed. */
    public List<TokenScaling.Scaled> notLinear() {
        return notLinear;
    }

    /** The dp collectives, one or two per parameter. */
    public List<DpGradientSync.Collective> dpCollectives() {
        return dpCollectives;
    }

    /** Whether every byte count is known. */
    public boolean complete() {
        return notLinear.isEmpty();
    }

    private record CollectiveKey(Group group, Phase phase, CollectiveKind collective) implements Comparable<CollectiveKey> {
        private static final Comparator<CollectiveKey> ORDER = Comparator.comparing(CollectiveKey::group)
                .thenComparing(CollectiveKey::phase).thenComparing(CollectiveKey::collective);

        @Override
        public int compareTo(CollectiveKey o) {
            return ORDER.compare(this, o);
        }
    }

    /** Totals per group, phase and collective kind, in that order. */
    public List<CollectiveTotal> byCollective() {
        Map<CollectiveKey, Tally> totals = new TreeMap<>();
        for (Row r : rows) {
            totals.merge(new CollectiveKey(r.group(), r.phase(), r.collective()), new Tally(r.collectivesPerStep(), r.bytesPerStep()),
                    (a, b) -> a.plus(b.count(), b.bytes()));
        }
        List<CollectiveTotal> out = new ArrayList<>();
        totals.forEach((k, t) -> out.add(new CollectiveTotal(k.group(), k.collective(), k.phase(), t)));
        return out;
    }

    public List<LayerTotal> byLayer() {
        Map<Layer, Map<Phase, Tally>> perInstance = new LinkedHashMap<>();
        for (Row r : rows) {
            perInstance.computeIfAbsent(r.layer(), k -> new LinkedHashMap<>())
                    .merge(r.phase(), new Tally(r.count(), r.bytes()), (a, b) -> a.plus(b.count(), b.bytes()));
        }
        List<LayerTotal> out = new ArrayList<>();
        perInstance.forEach((layer, phases) -> {
            Tally step = Tally.ZERO;
            for (Tally t : phases.values()) {
                step = step.plus(t.count() * layer.instances(), t.bytes().isPresent()
                        ? OptionalLong.of(Math.multiplyExact(t.bytes().getAsLong(), layer.instances())) : OptionalLong.empty());
            }
            out.add(new LayerTotal(layer, phases, step));
        });
        return out;
    }

    /** All collectives of the step and their bytes. */
    public Tally total() {
        Tally t = Tally.ZERO;
        for (Row r : rows) {
            t = t.plus(r.collectivesPerStep(), r.bytesPerStep());
        }
        return t;
    }

    /**
     * The step's forward and backward collectives one by one, as a {@link CommTrace} of the full model
     * would record them (layer index filled in, the dp sync per parameter), to compare with a measured
     * step; order is not kept. ZeRO's all-gather after the update has no trace phase and is left out.
     */
    public List<CommTrace.Record> expand() {
        List<CommTrace.Record> out = new ArrayList<>();
        for (Row r : rows) {
            if (r.layer().kind() == Layer.Kind.DATA_PARALLEL) {
                continue;
            }
            long bytes = r.bytes().orElseThrow(() -> new IllegalStateException(r.module() + " " + r.op()
                    + " does not grow as batch x seq: no bytes to expand"));
            CommTrace.Phase phase = r.phase() == Phase.FORWARD ? CommTrace.Phase.FORWARD : CommTrace.Phase.BACKWARD;
            for (int i = r.layer().first(); i <= r.layer().last(); i++) {
                String module = r.layer().kind() == Layer.Kind.STACK ? r.moduleIn(Integer.toString(i)) : r.path();
                out.add(new CommTrace.Record(module, r.op(), r.collective(), bytes, phase));
            }
        }
        for (DpGradientSync.Collective c : dpCollectives) {
            if (c.when() == DpGradientSync.When.BACKWARD) {
                out.add(new CommTrace.Record("", DataParallel.OP, c.kind(), c.bytes(), CommTrace.Phase.BACKWARD));
            }
        }
        return out;
    }
}

package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.ops.dist.RelativeError;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Shards;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Trains one step of a model serially and on tp ThreadWorld ranks with its sharding rules applied, and
 * compares the loss, every gradient and every updated parameter (shards reassembled, padding cropped).
 */
final class ShardedRun {
    private ShardedRun() {}

    /**
     * What one rank saw: its loss, per parameter its local gradient and updated value with their layout,
     * and the ops the dispatcher could only run by gathering to replicate.
     */
    record RankResult(float loss, Map<String, Tensor> grads, Map<String, Tensor> values, Map<String, ShardLayout> layouts,
                      Map<String, int[]> valid, ShardingPlan plan, List<CommTrace.Fallback> fallbacks) {}

    /** The serial step: loss, gradients and parameters after one SGD step. */
    record SerialResult(float loss, Map<String, Tensor> grads, Map<String, Tensor> values) {}

    static final float LR = 0.1f;

    /**
     * One plain SGD step, p -= lr * grad, on each rank's local data. Linear in the gradient, so the
     * parameters after it agree as well as the gradients do (an Adam step would not: its first update is
     * about lr * sign(grad), and gradients that are zero in exact arithmetic, such as the key bias's, are
     * rounding noise of either sign).
     */
    static void sgdStep(Module m) {
        try (GradMode.Guard _ = GradMode.disabled()) {
            for (Parameter p : m.parameters()) {
                p.addInPlace(p.grad().copy().scaleInPlace(-LR));
            }
        }
    }

    static SerialResult serial(Supplier<Module> build, Function<Module, Tensor> loss) {
        Module m = build.get();
        Tensor l = loss.apply(m);
        l.backward();
        Map<String, Tensor> grads = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> grads.put(n, p.grad().copy()));
        sgdStep(m);
        Map<String, Tensor> values = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> values.put(n, p.copy()));
        return new SerialResult(l.item(), grads, values);
    }

    static List<RankResult> parallel(int tp, Supplier<Module> build, ShardingRules rules, Function<Module, Tensor> loss) {
        return ThreadWorld.call(tp, comm -> {
            Module m;
            CommTrace trace;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                m = build.get();
                trace = ctx.context().trace();
            }
            ShardingPlan plan = rules.apply(m);
            trace.enable(true);
            Tensor l = loss.apply(m);
            l.backward();
            Map<String, Tensor> grads = new LinkedHashMap<>();
            Map<String, ShardLayout> layouts = new LinkedHashMap<>();
            Map<String, int[]> valid = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
                ColoParameter p = (ColoParameter) e.getValue();
                grads.put(e.getKey(), p.grad().copy());
                layouts.put(e.getKey(), io.colo4j.tensor.colo.ColoTensor.dist(p).layout(e.getKey()));
                valid.put(e.getKey(), io.colo4j.tensor.colo.ColoTensor.dist(p).validShape());
            }
            sgdStep(m);
            Map<String, Tensor> values = new LinkedHashMap<>();
            m.namedParameters().forEach((n, p) -> values.put(n, p.copy()));
            return new RankResult(l.item(), grads, values, layouts, valid, plan, trace.fallbacks());
        });
    }

    /** The full tensor from each rank's local one, cropped to the parameter's valid (unpadded) shape. */
    static Tensor assemble(List<RankResult> ranks, String name, Function<RankResult, Map<String, Tensor>> which) {
        List<Tensor> locals = new ArrayList<>();
        for (RankResult r : ranks) {
            locals.add(which.apply(r).get(name));
        }
        ShardLayout layout = ranks.get(0).layouts().get(name);
        Tensor full = layout.effectiveKind() == PlacementKind.REPLICATE ? locals.get(0) : Shards.assemble(locals, layout);
        int[] valid = ranks.get(0).valid().get(name);
        for (int d = 0; d < valid.length; d++) {
            full = full.narrow(d, 0, valid[d]);
        }
        return full;
    }

    /** Loss within 1e-5 relative; every gradient and updated parameter within rtol of its own scale. */
    static void assertEquivalent(SerialResult serial, List<RankResult> ranks, double rtol) {
        for (RankResult r : ranks) {
            assertThat((double) r.loss()).as("loss").isCloseTo(serial.loss(),
                    org.assertj.core.api.Assertions.within(1e-5 * Math.abs(serial.loss())));
        }
        serial.grads().forEach((name, g) -> RelativeError.assertClose(name + " grad", assemble(ranks, name, RankResult::grads), g, rtol));
        serial.values().forEach((name, v) -> RelativeError.assertClose(name + " after a step", assemble(ranks, name, RankResult::values), v, rtol));
        // replicated parameters are identical on every rank
        ranks.get(0).layouts().forEach((name, layout) -> {
            if (layout.effectiveKind() == PlacementKind.REPLICATE) {
                for (RankResult r : ranks) {
                    assertThat(r.grads().get(name).toFloatArray()).as("%s grad on every rank", name)
                            .containsExactly(ranks.get(0).grads().get(name).toFloatArray());
                }
            }
        });
    }
}

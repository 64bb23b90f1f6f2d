package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.rules.ShardingRules;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** What the OPT and Llama rule tests check beyond {@link ShardedRun}: tensors that are zero in exact arithmetic, and the trace. */
final class OptLlamaChecks {
    private OptLlamaChecks() {}

    /**
     * As {@link ShardedRun#assertEquivalent}, except for the parameters {@code zeroInExactArithmetic}
     * names (OPT's k_proj.bias: softmax cancels a constant added to every key, so its gradient is pure
     * rounding noise and has no scale of its own to be relative to): those must stay within rtol of the
     * largest gradient of the model.
     */
    static void assertEquivalent(ShardedRun.SerialResult serial, List<ShardedRun.RankResult> ranks, double rtol,
                                 Predicate<String> zeroInExactArithmetic) {
        for (ShardedRun.RankResult r : ranks) {
            assertThat((double) r.loss()).as("loss").isCloseTo(serial.loss(),
                    org.assertj.core.api.Assertions.within(1e-5 * Math.abs(serial.loss())));
        }
        double largest = 0;
        for (Tensor g : serial.grads().values()) {
            for (float v : g.toFloatArray()) {
                largest = Math.max(largest, Math.abs(v));
            }
        }
        for (String name : serial.grads().keySet()) {
            Tensor grad = ShardedRun.assemble(ranks, name, ShardedRun.RankResult::grads);
            Tensor value = ShardedRun.assemble(ranks, name, ShardedRun.RankResult::values);
            if (zeroInExactArithmetic.test(name)) {
                float[] a = grad.toFloatArray();
                float[] e = serial.grads().get(name).toFloatArray();
                for (int i = 0; i < e.length; i++) {
                    assertThat((double) Math.abs(a[i] - e[i])).as("%s grad (zero in exact arithmetic) [%d]", name, i)
                            .isLessThanOrEqualTo(rtol * largest);
                }
                float[] v = value.toFloatArray();
                float[] w = serial.values().get(name).toFloatArray();
                for (int i = 0; i < w.length; i++) {
                    assertThat((double) Math.abs(v[i] - w[i])).as("%s after a step [%d]", name, i)
                            .isLessThanOrEqualTo(rtol * ShardedRun.LR * largest);
                }
                continue;
            }
            io.colo4j.ops.dist.RelativeError.assertClose(name + " grad", grad, serial.grads().get(name), rtol);
            io.colo4j.ops.dist.RelativeError.assertClose(name + " after a step", value, serial.values().get(name), rtol);
        }
        ranks.get(0).layouts().forEach((name, layout) -> {
            if (layout.effectiveKind() == PlacementKind.REPLICATE) {
                for (ShardedRun.RankResult r : ranks) {
                    assertThat(r.grads().get(name).toFloatArray()).as("%s grad on every rank", name)
                            .containsExactly(ranks.get(0).grads().get(name).toFloatArray());
                }
            }
        });
    }

    /**
     * The communication plan of one training step (forward and backward) of a zoo model with its rules
     * applied, as rank 0's {@link CommTrace} records it, grouped by module path.
     *
     * <p>What the dispatcher does today with separate column projections that read the same replicated
     * input (OPT's and Llama's q_proj / k_proj / v_proj, Llama's gate_proj / up_proj): each column-parallel
     * linear wraps its input in its own copy_to_tensor_model_parallel_region, so each all-reduces its share
     * of the input gradient in backward (three per attention block, two per SwiGLU MLP), where Megatron's
     * fused projections (and GPT-2's fused c_attn) need one. Summing those partial gradients before a single
     * all-reduce needs the dispatcher to share one region per replicated input; the models cannot do it
     * without parallel code. Flip {@link #COLUMN_PROJECTIONS_SHARE_ONE_BACKWARD_ALL_REDUCE} when it does.
     */
    record Trace(List<CommTrace.Record> records, List<CommTrace.Fallback> fallbacks) {
        static final boolean COLUMN_PROJECTIONS_SHARE_ONE_BACKWARD_ALL_REDUCE = true;

        record Counts(int forward, int backward) {}

        static Trace run(int tp, Supplier<Module> build, ShardingRules rules, Function<Module, Tensor> loss) {
            return ThreadWorld.call(tp, comm -> {
                Module m;
                InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu");
                try (ctx) {
                    m = build.get();
                }
                rules.apply(m);
                ctx.context().trace().enable(true);
                loss.apply(m).backward();
                return new Trace(ctx.context().trace().records(), ctx.context().trace().fallbacks());
            }).get(0);
        }

        /** Backward all-reduces of a block whose input feeds {@code columnProjections} separate column layers. */
        static int backwardAllReduces(int columnProjections) {
            return COLUMN_PROJECTIONS_SHARE_ONE_BACKWARD_ALL_REDUCE ? 1 : columnProjections;
        }

        /** Collectives of the modules at or under any of {@code prefixes}, forward and backward. */
        Counts counts(String... prefixes) {
            int forward = 0;
            int backward = 0;
            for (CommTrace.Record r : records) {
                if (Arrays.stream(prefixes).anyMatch(p -> r.module().equals(p) || r.module().startsWith(p + "."))) {
                    if (r.phase() == CommTrace.Phase.FORWARD) {
                        forward++;
                    } else {
                        backward++;
                    }
                }
            }
            return new Counts(forward, backward);
        }

        /** Nothing but all-reduces under {@code prefix} (no gather, no reduce-scatter, no all-to-all). */
        void assertOnlyAllReducesUnder(String prefix) {
            for (CommTrace.Record r : records) {
                if (r.module().startsWith(prefix)) {
                    assertThat(r.collective()).as("inside %s: %s", prefix, r).isEqualTo(CollectiveKind.ALL_REDUCE);
                }
            }
        }

        String summary() {
            return records.stream().map(r -> r.phase().name().charAt(0) + ":" + r.module() + ":" + r.op() + ":" + r.collective())
                    .collect(Collectors.joining(", ", "[", "]"));
        }
    }
}

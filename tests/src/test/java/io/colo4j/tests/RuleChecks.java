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

/**
 * What the zoo families' rule tests check beyond {@link ShardedRun}: gradients zero in exact arithmetic,
 * and the trace.
 */
final class RuleChecks {
    private RuleChecks() {}

    /**
     * As {@link ShardedRun#assertEquivalent}, except for the parameters {@code zeroInExactArithmetic} names
     * (OPT's k_proj.bias, BERT's key bias: a bias added to every key adds q . b_k to a whole row of scores,
     * which softmax cancels, so its gradient is rounding noise with no scale of its own to be relative to):
     * those must stay within rtol of the model's largest gradient, and their values after a step within
     * rtol * lr of it plus {@code valueSlack} of their own size.
     */
    static void assertEquivalent(ShardedRun.SerialResult serial, List<ShardedRun.RankResult> ranks, double rtol,
                                 Predicate<String> zeroInExactArithmetic, double valueSlack) {
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
                float[] v = value.toFloatArray();
                float[] w = serial.values().get(name).toFloatArray();
                assertThat(a).as(name).hasSameSizeAs(e);
                for (int i = 0; i < e.length; i++) {
                    assertThat((double) Math.abs(a[i] - e[i])).as("%s grad (zero in exact arithmetic) [%d]", name, i)
                            .isLessThanOrEqualTo(rtol * largest);
                    assertThat((double) Math.abs(v[i] - w[i])).as("%s after a step [%d]", name, i)
                            .isLessThanOrEqualTo(rtol * ShardedRun.LR * largest + valueSlack * Math.abs(w[i]));
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
     * Rank 0's {@link CommTrace} over one forward and backward of a zoo model with its rules applied.
     *
     * <p>Every column-parallel consumer of one replicated activation shares a single
     * copy_to_tensor_model_parallel_region (Redistributor.sharedCopyToTpRegion), so separate q, k, v
     * projections all-reduce their summed input gradient once, as a fused projection (GPT-2's c_attn)
     * does. T5's cross-attention reads two replicated tensors: the decoder states (its q, once per block)
     * and the encoder output, which every decoder block's key_value reads, so its gradient is summed over
     * all of them and all-reduced once in total, traced under the first block (the one that made the
     * region). Before that dispatcher change each column projection all-reduced on its own
     * ({@link #COLUMN_PROJECTIONS_SHARE_ONE_BACKWARD_ALL_REDUCE} false: 3 per self-attention, 2 per
     * cross-attention).
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

        /** Backward all-reduces of a block whose replicated inputs feed {@code columnProjections} column layers. */
        static int backwardAllReduces(int columnProjections) {
            return COLUMN_PROJECTIONS_SHARE_ONE_BACKWARD_ALL_REDUCE ? 1 : columnProjections;
        }

        /** Backward all-reduces of decoder block {@code block}'s cross-attention (q, and the encoder output's key_value). */
        static int crossAttentionBackwardAllReduces(int block) {
            return COLUMN_PROJECTIONS_SHARE_ONE_BACKWARD_ALL_REDUCE ? 1 + (block == 0 ? 1 : 0) : 2;
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

        /** Nothing but all-reduces in modules whose path starts with {@code prefix} (no gather, no reduce-scatter, no all-to-all). */
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

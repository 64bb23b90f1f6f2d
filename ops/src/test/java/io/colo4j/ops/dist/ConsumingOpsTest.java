package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.F;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.Communicator;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ops that consume an input nothing reads again write over it (issue 17: buffers a step held to its end). A loss that
 * consumes its logits writes their gradient over them; bias_dropout_add after a row layer ({@code
 * Linear.forwardDropoutAdd}) writes its sum over the layer's output. Each gives the same bits as the plain op, serial
 * and on tp ranks, one buffer less at the step's peak, and the consumed tensor fails on any later access, naming the
 * op; a tensor it cannot take (a leaf made outside the step, a view into a larger one) keeps its values.
 */
class ConsumingOpsTest {
    static final int D = 16;
    static final int V = 96;
    static final int ROWS = 24;

    static final class Head extends Module {
        final Parameter w = registerParameter("w", new Parameter(Init.normal(5, 0, 0.5f), V, D));
    }

    private static IntTensor targets() {
        int[] t = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            t[i] = i == 3 ? -100 : (i * 37 + 11) % V;
        }
        return IntTensor.of(t, ROWS);
    }

    /** One rank's step: loss, input gradient, weight gradient (whole), step peak, and the error reading the logits after. */
    record Step(float loss, float[] inputGrad, float[] weightGrad, long peak, String logitsAfter) {}

    private static Step step(int tp, Head head, BiFunction<Tensor, IntTensor, Tensor> loss) {
        Tensor leaf = Tensor.init(Init.uniform(9, -1, 1), ROWS, D).requiresGrad(true);
        Parameter w = head.w;
        MemoryStats.resetStepPeak();
        float value;
        String after;
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor h = tp == 1 ? F.scale(leaf, 1f) : ColoTensor.replicate(leaf, ((ColoParameter) w).context());
            Tensor logits = F.linear(h, w, null);
            Tensor l = loss.apply(logits, targets());
            l.backward();
            value = l.item();
            try {
                (tp == 1 ? logits : logits.local()).toFloatArray();
                after = null;
            } catch (IllegalStateException e) {
                after = e.getMessage();
            }
        }
        long peak = MemoryStats.stepPeakBytes();
        Tensor wg = tp == 1 ? w.grad() : ColoTensor.full(ColoTensor.laidOutAs(w.grad(), w));
        Step s = new Step(value, leaf.grad().toFloatArray(), wg.toFloatArray(), peak, after);
        w.zeroGrad();
        return s;
    }

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {1, 2, 4})
    void consumedLogitsGiveTheSameBitsInOneBufferLessAndFailWhenReadAfter(int tp) {
        List<Step[]> ranks = ThreadWorld.call(tp, comm -> {
            Head head = onRank(tp, comm, Head::new, h -> h.w, ComputeSpec.tp1d());
            Step plain = step(tp, head, F::crossEntropy);
            Step consumed = step(tp, head, F::crossEntropyConsuming);
            return new Step[] {plain, consumed};
        });
        long logitsBytes = (long) ROWS * (V / tp) * Float.BYTES;
        for (int r = 0; r < tp; r++) {
            Step plain = ranks.get(r)[0];
            Step consumed = ranks.get(r)[1];
            String what = "tp " + tp + " rank " + r;
            assertThat(consumed.loss()).as("%s loss", what).isEqualTo(plain.loss());
            assertThat(consumed.inputGrad()).as("%s input grad", what).containsExactly(plain.inputGrad());
            assertThat(consumed.weightGrad()).as("%s weight grad", what).containsExactly(plain.weightGrad());
            assertThat(plain.logitsAfter()).as("%s plain logits read after backward", what).isNull();
            assertThat(consumed.logitsAfter()).as("%s consumed logits read after backward", what)
                    .contains("cross-entropy's backward").contains("copy()");
            assertThat(consumed.peak()).as("%s step peak consumed vs plain (%d bytes)", what, plain.peak())
                    .isLessThanOrEqualTo(plain.peak() - logitsBytes);
        }
    }

    @Test
    void logitsItCannotTakeKeepTheirValuesAndTheGradientIsTheSame() {
        Tensor logits = Tensor.init(Init.uniform(4, -2, 2), ROWS, V).requiresGrad(true); // long-lived: made outside the step
        float[] before = logits.toFloatArray();
        float[][] grads = new float[2][];
        for (int consume = 0; consume < 2; consume++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor l = consume == 1 ? F.crossEntropyConsuming(logits, targets()) : F.crossEntropy(logits, targets());
                l.backward();
            }
            grads[consume] = logits.grad().toFloatArray();
            logits.zeroGrad();
        }
        assertThat(grads[1]).containsExactly(grads[0]);
        assertThat(logits.toFloatArray()).containsExactly(before);
        // a view into a larger step tensor is not the whole of its block: left alone as well
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor wide = F.scale(logits, 1f);
            Tensor part = wide.narrow(0, 0, ROWS / 2);
            F.crossEntropyConsuming(part, IntTensor.of(new int[ROWS / 2], ROWS / 2)).backward();
            assertThat(wide.toFloatArray()).containsExactly(before);
        }
    }

    static final class RowLayer extends Module {
        final io.colo4j.ops.nn.Linear proj = registerModule("proj", new io.colo4j.ops.nn.Linear(io.colo4j.tensor.nn.WeightLayout.IN_OUT, D * 2, D,
                Init.normal(6, 0, 0.5f), Init.uniform(5, -1, 1)));
    }

    @ParameterizedTest(name = "tp {0} sequence parallel {1}")
    @org.junit.jupiter.params.provider.CsvSource({"1, false", "2, false", "4, false", "2, true", "4, true"})
    void aRowLayersOutputIsWhereItsBiasDropoutAddWrites(int tp, boolean sequenceParallel) {
        List<float[][]> ranks = ThreadWorld.call(tp, comm -> {
            RowLayer layer = onRank(tp, comm, RowLayer::new, l -> l.proj.weight(), ComputeSpec.tp1d().withSequenceParallel(sequenceParallel));
            float[][] out = new float[4][];
            for (int consume = 0; consume < 2; consume++) {
                Tensor leaf = Tensor.init(Init.uniform(9, -1, 1), 2, ROWS / 2, D * 2).requiresGrad(true);
                Tensor residualLeaf = Tensor.init(Init.uniform(8, -1, 1), 2, ROWS / 2, D).requiresGrad(true);
                MemoryStats.resetStepPeak();
                float[] values;
                String after = null;
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor x = F.scale(leaf, 1f);
                    Tensor residual = F.scale(residualLeaf, 1f);
                    if (tp > 1) {
                        var ctx = ((ColoParameter) layer.proj.weight()).context();
                        x = io.colo4j.tensor.colo.Redistributor.redistribute(ColoTensor.replicate(x, ctx), DistSpec.shard(2, tp));
                        residual = ColoTensor.replicate(residual, ctx);
                        if (sequenceParallel) {
                            residual = io.colo4j.tensor.colo.Redistributor.redistribute(residual, DistSpec.shard(1, tp));
                        }
                    }
                    Tensor product = layer.proj.forwardWithoutBias(x);
                    Tensor y = consume == 1
                            ? F.biasDropoutAddConsuming(product, layer.proj.bias(), residual, 0.25f, true, 77)
                            : F.biasDropoutAdd(product, layer.proj.bias(), residual, 0.25f, true, 77);
                    values = (tp == 1 ? y : ColoTensor.full(y)).toFloatArray();
                    F.mean(F.mul(y, y)).backward();
                    try {
                        (tp == 1 ? product : product.local()).toFloatArray();
                    } catch (IllegalStateException e) {
                        after = e.getMessage();
                    }
                }
                long peak = MemoryStats.stepPeakBytes();
                Tensor wg = tp == 1 ? layer.proj.weight().grad() : ColoTensor.full(ColoTensor.laidOutAs(layer.proj.weight().grad(), layer.proj.weight()));
                out[consume * 2] = concat(values, leaf.grad().toFloatArray(), residualLeaf.grad().toFloatArray(), wg.toFloatArray(),
                        layer.proj.bias().grad().toFloatArray());
                out[consume * 2 + 1] = new float[] {peak, after == null ? 0 : after.contains("bias_dropout_add") ? 1 : -1};
                layer.proj.weight().zeroGrad();
                layer.proj.bias().zeroGrad();
            }
            return out;
        });
        long productBytes = (long) ROWS / (sequenceParallel ? tp : 1) * D * Float.BYTES;
        for (int r = 0; r < tp; r++) {
            float[][] rank = ranks.get(r);
            String what = "tp " + tp + (sequenceParallel ? " sp" : "") + " rank " + r;
            assertThat(rank[2]).as("%s output and gradients, consumed vs plain", what).containsExactly(rank[0]);
            assertThat(rank[1][1]).as("%s plain product read after", what).isEqualTo(0f);
            assertThat(rank[3][1]).as("%s consumed product read after: fails naming bias_dropout_add", what).isEqualTo(1f);
            assertThat((double) rank[3][0]).as("%s step peak consumed vs plain", what).isLessThanOrEqualTo(rank[1][0] - productBytes);
        }
    }

    /** {@code make}'s module, plain at tp 1, else built in an InitContext with {@code weight} split on dim 0 under {@code spec}. */
    private static <M extends Module> M onRank(int tp, Communicator comm, Supplier<M> make,
                                               Function<M, Parameter> weight, ComputeSpec spec) {
        if (tp == 1) {
            return make.get();
        }
        M module;
        try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
            module = make.get();
        }
        module.namedParameters();
        ((ColoParameter) weight.apply(module)).setSpec(DistSpec.shard(0, tp), spec);
        return module;
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void aConsumedTensorCannotBeConsumedAgain() {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor t = Tensor.zeros(4, 4);
            assertThat(t.canBeConsumed()).isTrue();
            Tensor taken = t.consume("a test's op");
            assertThat(t.canBeConsumed()).isFalse();
            assertThat(taken.canBeConsumed()).isTrue();
            assertThatThrownBy(() -> t.consume("another op")).hasMessageContaining("another op");
            assertThatThrownBy(t::toFloatArray).hasMessageContaining("a test's op");
        }
    }
}

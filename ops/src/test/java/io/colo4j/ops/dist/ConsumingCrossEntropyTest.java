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
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A loss that consumes its logits (issue 17: the head region of a step's peak) writes their gradient over them: the
 * same loss and gradient bits as the plain loss, serial and vocab-parallel, one [tokens, vocab / tp] buffer less at
 * the step's peak, and the logits fail on any later access, naming the loss; logits it cannot take (a leaf made
 * outside the step) keep their values and get a gradient buffer of their own.
 */
class ConsumingCrossEntropyTest {
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
            Head head;
            if (tp == 1) {
                head = new Head();
            } else {
                try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
                    head = new Head();
                }
                head.namedParameters();
                ((ColoParameter) head.w).setSpec(DistSpec.shard(0, tp), ComputeSpec.tp1d());
            }
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

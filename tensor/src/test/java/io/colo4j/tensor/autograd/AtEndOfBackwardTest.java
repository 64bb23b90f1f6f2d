package io.colo4j.tensor.autograd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Autograd#atEndOfBackward}: an action queued by gradient functions runs once, after the outermost backward (a
 * recomputed layer's inner backward included) has finished, and never after a backward that failed.
 */
class AtEndOfBackwardTest {
    /** What one queued action saw: how often gradient functions handed it a part, and x's gradient when it ran. */
    private static final class Tally implements Runnable {
        final List<String> parts = new ArrayList<>();
        final List<Float> gradAtRun = new ArrayList<>();
        final Tensor watched;

        Tally(Tensor watched) {
            this.watched = watched;
        }

        @Override
        public void run() {
            gradAtRun.add(watched.grad() == null ? Float.NaN : watched.grad().get(0));
        }
    }

    /** x times 2, whose backward hands a part to the action queued under {@code key}. */
    private static Tensor doubled(Tensor x, Object key, Tally[] made) {
        Tensor out = Tensor.vector(2 * x.get(0));
        return Autograd.record("doubled", out, g -> {
            Tally t = Autograd.atEndOfBackward(key, () -> made[0] = new Tally(x));
            t.parts.add("part");
            return new Tensor[] {g.copy().scaleInPlace(2f)};
        }, x);
    }

    @Test
    void runsOnceAfterEveryLeafHasItsGradient() {
        Tensor x = Tensor.vector(3).requiresGrad(true);
        Tally[] made = new Tally[1];
        Tensor y = Autograd.record("sum", Tensor.vector(0), g -> new Tensor[] {g, g}, doubled(x, "k", made), doubled(x, "k", made));
        y.backward();
        assertThat(made[0].parts).as("both gradient functions handed their part to one action").hasSize(2);
        assertThat(made[0].gradAtRun).as("ran once, with x's whole gradient").containsExactly(4f);
    }

    @Test
    void aNestedBackwardQueuesOntoTheOutermost() {
        Tensor x = Tensor.vector(3).requiresGrad(true);
        Tensor inner = Tensor.vector(5).requiresGrad(true);
        Tally[] made = new Tally[1];
        // as a recomputed layer: its backward runs a backward of its own, whose gradient functions queue the action
        Tensor y = Autograd.record("recomputed", Tensor.vector(0), g -> {
            try (GradMode.Guard rerun = GradMode.enabled()) {
                Autograd.gradients(doubled(inner, "k", made), Tensor.vector(1), new Tensor[0]);
            }
            assertThat(made[0].gradAtRun).as("not at the end of the inner backward").isEmpty();
            return new Tensor[] {g};
        }, x);
        y.backward();
        assertThat(made[0].parts).hasSize(1);
        assertThat(made[0].gradAtRun).as("ran once, at the outer end, with the inner leaf's gradient").containsExactly(2f);
    }

    @Test
    void aFailedBackwardDropsTheActions() {
        Tensor x = Tensor.vector(3).requiresGrad(true);
        Tally[] made = new Tally[1];
        Tensor failing = Autograd.record("fails", Tensor.vector(0), g -> {
            throw new IllegalStateException("broken op");
        }, x);
        // backward reaches the doubling (which queues the action) before the failing op
        Tensor y = Autograd.record("then fails", Tensor.vector(0), g -> new Tensor[] {g, g}, failing, doubled(x, "k", made));
        assertThatThrownBy(y::backward).hasMessageContaining("broken op");
        Tally dropped = made[0];
        assertThat(dropped.parts).hasSize(1);
        assertThat(dropped.gradAtRun).as("not run after a failed backward").isEmpty();
        Tally[] next = new Tally[1];
        doubled(x, "k", next).backward();
        assertThat(next[0]).as("a fresh action in the next backward").isNotSameAs(dropped);
        assertThat(dropped.gradAtRun).isEmpty();
        assertThat(next[0].gradAtRun).hasSize(1);
    }

    @Test
    void outsideBackwardIsRefused() {
        assertThatThrownBy(() -> Autograd.atEndOfBackward("k", () -> () -> {}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("outside backward");
    }
}

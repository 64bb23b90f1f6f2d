package io.colo4j.tensor.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Backward releases the step memory of the gradients it made once they are dead (intermediate gradients after their
 * node ran, sums' operands, leaf gradients once copied into the leaf's grad) and nothing else.
 */
class DeadGradientsTest {
    /** Every incoming gradient a node's backward saw, in order. */
    private final List<Tensor> seen = new ArrayList<>();

    @AfterEach
    void giveTheMemoryBack() {
        MemoryScope.releaseCachedMemory();
    }

    private static Tensor scaled(Tensor g, float k) {
        float[] v = g.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] *= k;
        }
        return Tensor.of(v, g.shape());
    }

    private Tensor times(Tensor x, float k) {
        return Autograd.record("times " + k, scaled(x, k), g -> {
            seen.add(g);
            return new Tensor[] {scaled(g, k)};
        }, x);
    }

    /** Hands its incoming gradient on as its input's (a view of the same storage). */
    private Tensor view(Tensor x) {
        return Autograd.record("view", x.detach(), g -> {
            seen.add(g);
            return new Tensor[] {g.reshape(g.shape())};
        }, x);
    }

    /** x + y, whose backward returns its incoming gradient for both inputs. */
    private Tensor add(Tensor x, Tensor y) {
        float[] a = x.toFloatArray();
        float[] b = y.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
        return Autograd.record("add", Tensor.of(a, x.shape()), g -> {
            seen.add(g);
            return new Tensor[] {g, g};
        }, x, y);
    }

    /** A graph with hand-on views, fan-out (a pending sum) and a doubled input; d/dx = 1.5 * 2 * (2 + 2) * 5 = 60 each. */
    private Tensor model(Tensor x) {
        Tensor h = times(x, 5f);
        Tensor a = view(times(h, 2f));
        Tensor b = times(h, 2f);
        Tensor s = add(a, b);
        return times(view(add(s, s)), 1.5f);
    }

    private float[] gradOfX(boolean keep) {
        Tensor x;
        try (MemoryScope persistent = MemoryScope.persistent()) {
            x = Tensor.of(new float[] {1f, -2f, 3f, 0.5f}, 4).requiresGrad(true);
        }
        try (MemoryScope step = MemoryScope.open()) {
            Tensor y = model(x);
            Tensor gradRoot = Tensor.ones(4);
            long liveBefore = MemoryStats.stepLiveBytes();
            seen.clear();
            if (keep) {
                try (GradMode.Guard k = Autograd.keepDeadGradients()) {
                    y.backward(gradRoot);
                }
                assertThat(MemoryStats.stepLiveBytes()).as("kept: every gradient made is still held").isGreaterThan(liveBefore);
            } else {
                y.backward(gradRoot);
                assertThat(MemoryStats.stepLiveBytes()).as("every gradient backward made was released").isEqualTo(liveBefore);
                assertThat(seen.get(0)).isSameAs(gradRoot);
                assertThat(gradRoot.storage().isReleased()).as("the caller's gradRoot is the caller's").isFalse();
                assertThat(seen.subList(1, seen.size())).allMatch(g -> g.storageIfAny().isReleased());
                assertThat(y.toFloatArray()).as("activations are untouched").hasSize(4);
            }
        }
        return x.grad().toFloatArray();
    }

    @Test
    void releasedGradientsGiveTheSameBitsAsKeptOnes() {
        float[] released = gradOfX(false);
        assertThat(released).containsOnly(1.5f * 2 * (2 + 2) * 5);
        assertThat(gradOfX(true)).isEqualTo(released);
    }

    @Test
    void capturedGradientsGoToTheCallerUnreleased() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor x = Tensor.of(new float[] {1f, 2f}, 2).requiresGrad(true);
            Tensor h = times(x, 3f);
            Tensor y = times(view(h), 2f);
            Tensor[] grads = Autograd.gradients(y, Tensor.ones(2), x);
            assertThat(grads[0].toFloatArray()).containsExactly(6f, 6f);
            assertThat(grads[0].storage().isReleased()).isFalse();
        }
    }
}

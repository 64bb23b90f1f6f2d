package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What activation recompute needs from step memory: a scope opened aside from the step's frees its memory at once
 * while what it hands out through {@link MemoryScope#outer()} lives (and is counted) as the step's; the per-thread
 * step peak sees both.
 */
class AsideScopeTest {
    private static final long FLOATS = 1 << 16;
    private static final long BYTES = FLOATS * Float.BYTES;

    @AfterEach
    void giveTheMemoryBack() {
        MemoryScope.releaseCachedMemory();
    }

    @Test
    void whatAnAsideScopeHandsOutlivesItAndTheRestIsFreedAtOnce() {
        try (MemoryScope step = MemoryScope.open()) {
            MemoryStats.resetStepPeak();
            long before = MemoryStats.stepLiveBytes();
            Tensor kept;
            Tensor scratch;
            try (MemoryScope aside = MemoryScope.openAside()) {
                scratch = Tensor.full(2f, (int) FLOATS);
                try (MemoryScope outer = MemoryScope.outer()) {
                    kept = scratch.copy();
                }
                assertThat(MemoryStats.stepLiveBytes() - before).isEqualTo(2 * BYTES);
            }
            assertThat(MemoryStats.stepLiveBytes() - before).as("the aside scope's memory is given back").isEqualTo(BYTES);
            assertThat(MemoryStats.stepPeakBytes() - before).as("the peak saw both").isEqualTo(2 * BYTES);
            assertThat(kept.get(7)).isEqualTo(2f);
            assertThatThrownBy(() -> scratch.get(7)).as("a view of the closed aside scope fails on use").isInstanceOf(IllegalStateException.class);
            // the step's next allocation does not land on the kept tensor
            Tensor next = Tensor.full(5f, (int) FLOATS);
            assertThat(kept.get(FLOATS > 8 ? 8 : 0)).isEqualTo(2f);
            assertThat(next.get(0)).isEqualTo(5f);
        }
        assertThat(MemoryStats.stepLiveBytes()).as("all of it freed with the step").isZero();
    }

    @Test
    void asideScopesNestAlternatingPools() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor a = Tensor.full(1f, 100);
            try (MemoryScope aside = MemoryScope.openAside()) {
                Tensor b = Tensor.full(2f, 100);
                try (MemoryScope inner = MemoryScope.openAside()) {
                    Tensor c = Tensor.full(3f, 100);
                    Tensor out;
                    try (MemoryScope outer = MemoryScope.outer()) {
                        out = c.copy();
                    }
                    assertThat(out.get(0)).isEqualTo(3f);
                }
                assertThat(b.get(0)).isEqualTo(2f);
            }
            assertThat(a.get(0)).isEqualTo(1f);
        }
    }

    @Test
    void outerNeedsAScopeOnAnotherPoolOrNoneBelow() {
        try (MemoryScope step = MemoryScope.open(); MemoryScope nested = MemoryScope.open()) {
            assertThatThrownBy(MemoryScope::outer).isInstanceOf(IllegalStateException.class).hasMessageContaining("openAside");
        }
        try (MemoryScope aside = MemoryScope.openAside()) {
            Tensor kept;
            try (MemoryScope outer = MemoryScope.outer()) {
                kept = Tensor.full(4f, 10);
            }
            assertThat(kept.get(0)).as("no step below: long-lived").isEqualTo(4f);
            kept.freeStorage();
        }
    }
}

package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Step memory given back before its scope closes ({@link Storage#release()}): reused, counted, and never read stale. */
class StepMemoryReleaseTest {
    @AfterEach
    void giveTheMemoryBack() {
        MemoryScope.releaseCachedMemory();
    }

    private static long address(Tensor t) {
        return StepMemoryPoolTest.address(t);
    }

    @Test
    void aReleasedBlockIsReusedByTheStepsNextAllocationThatFits() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor a = Tensor.zeros(1000);
            Tensor keep = Tensor.zeros(10);
            long aAt = address(a);
            a.storage().release();
            Tensor b = Tensor.empty(900);
            assertThat(address(b)).as("best fit: the released block, not the top of the stack").isEqualTo(aAt);
            Tensor c = Tensor.empty(16);
            assertThat(address(c)).as("the rest of the released block").isEqualTo(aAt + 3648);
            assertThat(address(c) % 64).isZero();
            assertThat(keep.toFloatArray()).containsOnly(0f);
        }
    }

    @Test
    void releasingTheTopOfTheStackLowersItAndMeetsFreeRangesBelow() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor base = Tensor.zeros(16);
            Tensor a = Tensor.zeros(100);
            Tensor b = Tensor.zeros(100);
            long aAt = address(a);
            a.storage().release(); // not the top: a free range
            b.storage().release(); // the top: the stack drops below a as well
            assertThat(address(Tensor.empty(1000))).as("the stack's top is where a began").isEqualTo(aAt);
            assertThat(base.toFloatArray()).containsOnly(0f);
        }
    }

    @Test
    void liveBytesAndTheStepPeakDropOnRelease() {
        try (MemoryScope step = MemoryScope.open()) {
            MemoryStats.resetStepPeak();
            long before = MemoryStats.stepLiveBytes();
            for (int i = 0; i < 10; i++) {
                Tensor t = Tensor.empty(1 << 16);
                t.storage().release();
            }
            assertThat(MemoryStats.stepLiveBytes()).isEqualTo(before);
            assertThat(MemoryStats.stepPeakBytes() - before).as("one block at a time").isEqualTo(4L << 16);
        }
    }

    @Test
    void aStepThatReleasesLandsOnTheSameBytesEveryTimeAndNeverGrowsThePool() {
        List<Long> first = oneStep();
        long reserved = StepMemoryPool.current().reservedBytes();
        for (int i = 0; i < 3; i++) {
            assertThat(oneStep()).isEqualTo(first);
        }
        assertThat(StepMemoryPool.current().reservedBytes()).isEqualTo(reserved);
    }

    /** Allocates and releases in a fixed pattern; the addresses it got. */
    private static List<Long> oneStep() {
        List<Long> at = new ArrayList<>();
        try (MemoryScope step = MemoryScope.open()) {
            List<Tensor> live = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Tensor t = Tensor.empty(1 + (i * 7919) % 5000);
                at.add(address(t));
                live.add(t);
                if (i % 3 == 2) {
                    live.remove(i % live.size()).storage().release();
                }
            }
        }
        return at;
    }

    @Test
    void aReleasedTensorUsedAgainFailsLoudly() {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor a = Tensor.full(1f, 64);
            Tensor view = a.narrow(0, 8, 8);
            a.storage().release();
            assertThat(a.storageIfAny().isReleased()).isTrue();
            assertThatThrownBy(a::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("released");
            assertThatThrownBy(view::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("released");
            a.storageIfAny().release(); // twice is harmless
        }
    }

    @Test
    void aSegmentKeptPastReleaseReadsNanUnderTests() {
        assertThat(StepBlock.POISON).as("assertions are on in tests, so released blocks are poisoned").isTrue();
        try (MemoryScope step = MemoryScope.open()) {
            Tensor a = Tensor.full(1f, 64);
            java.lang.foreign.MemorySegment raw = a.storage().segment();
            a.storage().release();
            assertThat(raw.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 5)).isNaN();
        }
    }

    /**
     * zero_grad frees autograd's leaf gradient without closing an arena (a handshake with every JVM thread, once per
     * parameter per step): the tensor refuses access, and a segment kept past the free reads NaN under tests.
     */
    @Test
    void zeroGradFreesAutogradsGradientWithoutAnArenaClose() {
        Tensor weight = Tensor.full(2f, 4, 4).requiresGrad(true);
        Tensor grad = io.colo4j.tensor.autograd.Autograd.gradientBuffer(weight, 4, 4).fill(3f);
        io.colo4j.tensor.autograd.Autograd.accumulateLeaf(weight, grad);
        assertThat(weight.grad()).as("the buffer is adopted as it is").isSameAs(grad);
        java.lang.foreign.MemorySegment raw = grad.storage().segment();
        weight.zeroGrad();
        assertThat(raw.scope().isAlive()).as("no arena was closed").isTrue();
        assertThat(raw.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 5)).isNaN();
        assertThatThrownBy(grad::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("freed");
        assertThat(weight.grad()).isNull();
    }

    @Test
    void releaseAfterTheScopeClosedOrOfLongLivedMemoryIsSafe() {
        Tensor stale;
        try (MemoryScope step = MemoryScope.open()) {
            stale = Tensor.zeros(8);
        }
        long live = MemoryStats.stepLiveBytes();
        stale.storageIfAny().release(); // its scope reset it already: nothing more to give back
        assertThat(MemoryStats.stepLiveBytes()).isEqualTo(live);
        Tensor longLived = Tensor.zeros(8);
        longLived.storage().release();
        assertThatThrownBy(longLived::toFloatArray).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void onlyTheAllocatingThreadMayRelease() throws Exception {
        try (MemoryScope step = MemoryScope.open()) {
            Tensor a = Tensor.zeros(8);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    a.storageIfAny().release();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            other.start();
            other.join();
            assertThat(failure.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("must be released by that thread");
        }
    }
}

package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The page-fault and CPU counters bench train prints per step, read from /proc (Linux). */
class ProcessCountersTest {
    @Test
    void touchingFreshMemoryCountsPageFaults() {
        ProcessCounters before = ProcessCounters.now();
        assumeTrue(before != null, "no /proc/self/stat here");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fresh = arena.allocate(64L << 20);
            fresh.fill((byte) 1);
            ProcessCounters step = ProcessCounters.now().since(before);
            assertThat(step.minorFaults()).isPositive();
            assertThat(step.userTicks()).isNotNegative();
            assertThat(step.systemTicks()).isNotNegative();
            assertThat(step.systemShare()).isBetween(0.0, 1.0);
        }
    }

    @Test
    void stepCountersReportEachStepAndTheStepsAfterTheFirst() {
        StepCounters counters = StepCounters.start();
        assumeTrue(counters != null, "no /proc/self/stat here");
        counters.stepDone();
        counters.stepDone();
        counters.stepDone();
        assertThat(counters.toString()).startsWith("process per step: minor page faults [").contains("over steps 2..3")
                .contains("Java heap allocated [").contains("GC [");
    }

    @Test
    void aStepThatAllocatesOnTheHeapShowsIt() {
        StepCounters counters = StepCounters.start();
        assumeTrue(counters != null, "no /proc/self/stat here");
        counters.stepDone();
        byte[] boxedLikeAKernel = new byte[96 << 20];
        counters.stepDone();
        counters.stepDone();
        assertThat(boxedLikeAKernel).hasSize(96 << 20);
        var perStep = counters.heapAllocatedPerStep();
        assumeTrue(perStep.get(1) >= 0, "no per-thread allocation counters in this JVM");
        assertThat(perStep.get(1)).isGreaterThanOrEqualTo(96L << 20);
        assertThat(perStep.get(2)).isLessThan(16L << 20);
    }
}

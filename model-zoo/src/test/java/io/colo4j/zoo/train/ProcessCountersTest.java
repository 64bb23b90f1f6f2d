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
        assertThat(counters.toString()).startsWith("process per step: minor page faults [").contains("over steps 2..3");
    }
}

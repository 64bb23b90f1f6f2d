package io.colo4j.tensor.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Sections nest with exclusive time, so a step's sections sum to it; nothing is recorded when off or outside a step. */
class StepProfileTest {
    private static final int OUTER = StepProfile.section("test outer");
    private static final int INNER = StepProfile.section("test inner");

    @AfterEach
    void off() {
        StepProfile.enable(false);
        StepProfile.reset();
    }

    private static void busy(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void innerTimeIsChargedToTheInnermostSectionOnly() {
        StepProfile.enable(true);
        StepProfile.reset();
        long t0 = System.nanoTime();
        int step = StepProfile.root(StepProfile.STEP);
        int outer = StepProfile.enter(OUTER);
        busy(20);
        int inner = StepProfile.enter(INNER);
        busy(100);
        StepProfile.exit(inner);
        StepProfile.addWork(INNER, 7);
        StepProfile.exit(outer);
        StepProfile.exit(step);
        long wall = System.nanoTime() - t0;
        Map<String, StepProfile.Totals> t = StepProfile.snapshot();
        // lower bounds from the spins; the upper bound tells charged-once (20 ms + noise) from charged-twice (120 ms)
        // with room for a VM that deschedules this thread for tens of milliseconds
        assertThat(t.get("test inner").nanos() / 1e6).isGreaterThanOrEqualTo(100.0);
        assertThat(t.get("test outer").nanos() / 1e6).isBetween(20.0, 100.0);
        assertThat(t.get("test inner").work()).isEqualTo(7);
        assertThat(t.get("test inner").calls()).isEqualTo(1);
        long sum = t.values().stream().mapToLong(StepProfile.Totals::nanos).sum();
        assertThat(sum).isLessThanOrEqualTo(wall).isGreaterThan(wall - 1_000_000);
    }

    @Test
    void aMissedExitIsClosedByTheEnclosingOne() {
        StepProfile.enable(true);
        StepProfile.reset();
        int step = StepProfile.root(StepProfile.STEP);
        int outer = StepProfile.enter(OUTER);
        StepProfile.enter(INNER); // never exited, as when an exception skips it
        StepProfile.exit(outer);
        busy(60);
        StepProfile.exit(step);
        Map<String, StepProfile.Totals> t = StepProfile.snapshot();
        assertThat(t.get("step").nanos() / 1e6).as("time after outer's exit goes to the step, not the open inner section")
                .isGreaterThanOrEqualTo(60.0);
        // left open it would hold the 60 ms; the bound leaves room for a descheduled thread
        assertThat(t.get("test inner").nanos() / 1e6).isLessThan(30.0);
    }

    @Test
    void nothingIsRecordedWhenOffOrOutsideAStep() {
        StepProfile.reset();
        assertThat(StepProfile.root(StepProfile.STEP)).isEqualTo(-1);
        assertThat(StepProfile.enter(OUTER)).isEqualTo(-1);
        StepProfile.enable(true);
        assertThat(StepProfile.enter(OUTER)).as("no step open on this thread").isEqualTo(-1);
        StepProfile.addWork(OUTER, 5);
        assertThat(StepProfile.snapshot()).isEmpty();
    }

    @Test
    void theTableAddsUpToTheStepWithUnaccountedLast() {
        Map<String, StepProfile.Totals> rank0 = new java.util.LinkedHashMap<>();
        rank0.put("step", new StepProfile.Totals(2_000_000, 2, 0));
        rank0.put("gemm", new StepProfile.Totals(10_000_000, 8, 4_000_000_000L));
        rank0.put("kernel softmax", new StepProfile.Totals(4_000_000, 4, 0));
        rank0.put("collective allReduce", new StepProfile.Totals(4_000_000, 4, 0));
        Map<String, StepProfile.Totals> rank1 = Map.of("step", new StepProfile.Totals(4_000_000, 2, 0),
                "gemm", new StepProfile.Totals(16_000_000, 8, 4_000_000_000L));
        String table = ProfileTable.format(List.of(rank0, rank1), 2, new long[] {20_000_000, 20_000_000});
        List<String> lines = table.lines().toList();
        assertThat(lines.get(0)).contains("rank 0 ms", "rank 1 ms", "mean ms", "share");
        assertThat(lines.get(1)).startsWith("GEMM").contains("5.00", "8.00", "6.50", "65.0%");
        assertThat(lines.get(2)).startsWith("kernel softmax");
        assertThat(lines.get(3)).startsWith("collective allReduce (waiting + copying)");
        assertThat(lines.get(4)).startsWith("unaccounted").contains("1.00", "2.00");
        assertThat(lines.get(5)).startsWith("sum of the rows").contains("10.00", "100.0%");
        assertThat(lines.get(6)).startsWith("step time measured").contains("10.00");
        assertThat(table).contains("rank 0: GEMMs 2.00 GFLOP per step at 400.0 GFLOP/s");
        assertThatThrownBy(() -> ProfileTable.format(List.of(rank0), 2, new long[0])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one measured time per rank");
    }
}

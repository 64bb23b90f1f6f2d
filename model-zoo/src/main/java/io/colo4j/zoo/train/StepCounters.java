package io.colo4j.zoo.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The process's {@link ProcessCounters} over each training step, taken on one rank (in-JVM ranks run their steps
 * in lockstep, so its steps stand for the process's): page faults per step and the kernel's share of the CPU.
 * Null from {@link #start()} where the counters are not available.
 */
final class StepCounters {
    private final List<ProcessCounters> steps = new ArrayList<>();
    /** MiB the process's reserved memory (step pools, caches, long-lived) grew by in each step: 0 once warm. */
    private final List<Long> reservedGrowth = new ArrayList<>();
    private ProcessCounters last;
    private long lastReserved = io.colo4j.tensor.MemoryStats.reservedBytes();

    private StepCounters(ProcessCounters first) {
        this.last = first;
    }

    static StepCounters start() {
        ProcessCounters now = ProcessCounters.now();
        return now == null ? null : new StepCounters(now);
    }

    void stepDone() {
        ProcessCounters now = ProcessCounters.now();
        if (now != null) {
            steps.add(now.since(last));
            last = now;
        }
        long reserved = io.colo4j.tensor.MemoryStats.reservedBytes();
        reservedGrowth.add((reserved - lastReserved) >> 20);
        lastReserved = reserved;
    }

    /** Steps after the first (warm-up) when there are some, as the step times are reported. */
    @Override
    public String toString() {
        List<ProcessCounters> timed = steps.size() > 1 ? steps.subList(1, steps.size()) : steps;
        long faults = 0;
        long user = 0;
        long system = 0;
        for (ProcessCounters c : timed) {
            faults += c.minorFaults();
            user += c.userTicks();
            system += c.systemTicks();
        }
        return String.format(Locale.ROOT, "process per step: minor page faults %s (%d over steps %d..%d), kernel share of CPU %s (%.1f%% over them),"
                        + " reserved memory grew by %s MiB",
                steps.stream().map(c -> Long.toString(c.minorFaults())).toList(), faults, steps.size() - timed.size() + 1, steps.size(),
                steps.stream().map(c -> String.format(Locale.ROOT, "%.1f%%", 100 * c.systemShare())).toList(),
                100 * new ProcessCounters(faults, user, system).systemShare(), reservedGrowth);
    }
}

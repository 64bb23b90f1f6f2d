package io.colo4j.zoo.train;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The process's {@link ProcessCounters} over each training step, taken on one rank (in-JVM ranks run their steps
 * in lockstep, so its steps stand for the process's): page faults per step and the kernel's share of the CPU, and the
 * Java heap every thread allocated and the garbage collector's time in each step. Tensors live off-heap, so a warm step
 * allocates a few MiB of bookkeeping; hundreds of MiB mean a kernel whose vectors C2 left boxed (a call it did not
 * inline), which costs time twice: the boxing and the collections. Null from {@link #start()} where the counters are
 * not available.
 */
final class StepCounters {
    private final List<ProcessCounters> steps = new ArrayList<>();
    /** MiB the process's reserved memory (step pools, caches, long-lived) grew by in each step: 0 once warm. */
    private final List<Long> reservedGrowth = new ArrayList<>();
    private ProcessCounters last;
    private long lastReserved = io.colo4j.tensor.MemoryStats.reservedBytes();
    private final List<Long> heapAllocated = new ArrayList<>();
    private final List<Long> gcMillis = new ArrayList<>();
    private long lastHeap = heapAllocatedSoFar();
    private long lastGc = gcMillisSoFar();

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
        long heap = heapAllocatedSoFar();
        heapAllocated.add(heap < 0 || lastHeap < 0 ? -1 : heap - lastHeap);
        lastHeap = heap;
        long gc = gcMillisSoFar();
        gcMillis.add(gc - lastGc);
        lastGc = gc;
    }

    /** Heap bytes every thread allocated in each step so far, -1 where unknown. */
    List<Long> heapAllocatedPerStep() {
        return List.copyOf(heapAllocated);
    }

    /** Heap bytes allocated by every live thread so far (a thread that ended takes its count with it: -1 if unknown). */
    private static long heapAllocatedSoFar() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
                && threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled()) {
            return threads.getTotalThreadAllocatedBytes();
        }
        return -1;
    }

    private static long gcMillisSoFar() {
        long sum = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            sum += Math.max(0, gc.getCollectionTime());
        }
        return sum;
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
                        + " reserved memory grew by %s MiB, Java heap allocated %s MiB, GC %s ms",
                steps.stream().map(c -> Long.toString(c.minorFaults())).toList(), faults, steps.size() - timed.size() + 1, steps.size(),
                steps.stream().map(c -> String.format(Locale.ROOT, "%.1f%%", 100 * c.systemShare())).toList(),
                100 * new ProcessCounters(faults, user, system).systemShare(), reservedGrowth,
                heapAllocated.stream().map(b -> b < 0 ? "?" : Long.toString(b >> 20)).toList(), gcMillis);
    }
}

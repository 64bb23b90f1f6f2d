package io.colo4j.tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What is live in a rank's step memory at its peak, by who allocated it: a debugging aid for activation memory, off
 * unless {@code -Dcolo4j.memory.census=true} (it walks the stack on every step allocation). Each step block is tagged
 * with its allocating code (the first frame outside the allocator, the model frame it ran under, and whether backward
 * was running); whenever the thread's step bytes reach a new peak the live blocks are summed per tag, so
 * {@link #peakReport} names what the peak is made of. Per thread, so per in-JVM rank.
 */
public final class StepCensus {
    /** On with {@code -Dcolo4j.memory.census=true}. */
    public static final boolean ON = Boolean.getBoolean("colo4j.memory.census");
    private static final ThreadLocal<StepCensus> CURRENT = ThreadLocal.withInitial(StepCensus::new);
    /** Allocation plumbing: a frame of these classes is not the allocating code. */
    private static final List<String> PLUMBING = List.of("io.colo4j.tensor.Storage", "io.colo4j.tensor.MemoryScope",
            "io.colo4j.tensor.StepCensus", "io.colo4j.tensor.Tensor", "io.colo4j.tensor.HostLoops", "io.colo4j.tensor.StridedCopy");

    private final TreeMap<Long, Block> live = new TreeMap<>();
    private long liveBytes;
    private long peakBytes;
    private Map<String, long[]> atPeak = Map.of();

    private record Block(long bytes, String tag, Object scope) {}

    private StepCensus() {}

    /** {@code scope}: the scope whose closing frees the block. */
    static void allocated(long serial, long bytes, Object scope) {
        if (ON) {
            CURRENT.get().add(serial, bytes, scope);
        }
    }

    static void released(long serial) {
        if (ON) {
            StepCensus c = CURRENT.get();
            Block b = c.live.remove(serial);
            if (b != null) {
                c.liveBytes -= b.bytes;
            }
        }
    }

    /** A live block now known by another serial ({@code Storage.handOver}): the same bytes, still tagged by their allocation. */
    static void renumbered(long serial, long newSerial) {
        if (ON) {
            StepCensus c = CURRENT.get();
            Block b = c.live.remove(serial);
            if (b != null) {
                c.live.put(newSerial, b);
            }
        }
    }

    /** A scope closed: every block it freed is gone. */
    static void closed(Object scope) {
        if (ON) {
            StepCensus c = CURRENT.get();
            c.live.values().removeIf(b -> {
                if (b.scope == scope) {
                    c.liveBytes -= b.bytes;
                    return true;
                }
                return false;
            });
        }
    }

    /** The peak starts again from what is live now (with {@link MemoryStats#resetStepPeak()}). */
    static void resetPeak() {
        if (ON) {
            StepCensus c = CURRENT.get();
            c.peakBytes = c.liveBytes;
            c.atPeak = c.byTag();
        }
    }

    /**
     * This thread's step memory at its last peak, largest tags first, at most {@code lines} of them; empty when the
     * census is off.
     */
    public static String peakReport(int lines) {
        if (!ON) {
            return "";
        }
        StepCensus c = CURRENT.get();
        List<Map.Entry<String, long[]>> rows = new ArrayList<>(c.atPeak.entrySet());
        rows.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "step memory at its peak, %.1f MiB, by allocating code:%n",
                c.peakBytes / 1048576.0));
        for (Map.Entry<String, long[]> row : rows.subList(0, Math.min(lines, rows.size()))) {
            sb.append(String.format(Locale.ROOT, "  %9.1f MiB %5d x  %s%n", row.getValue()[0] / 1048576.0, row.getValue()[1], row.getKey()));
        }
        return sb.toString();
    }

    private void add(long serial, long bytes, Object scope) {
        live.put(serial, new Block(bytes, tag(), scope));
        liveBytes += bytes;
        if (liveBytes > peakBytes) {
            peakBytes = liveBytes;
            atPeak = byTag();
        }
    }

    private Map<String, long[]> byTag() {
        Map<String, long[]> sums = new HashMap<>();
        for (Block b : live.values()) {
            long[] sum = sums.computeIfAbsent(b.tag, k -> new long[2]);
            sum[0] += b.bytes;
            sum[1]++;
        }
        return sums;
    }

    /** "allocating frame < model frame [backward]". */
    private static String tag() {
        return StackWalker.getInstance().walk(frames -> {
            String allocating = null;
            String model = null;
            boolean backward = false;
            for (StackWalker.StackFrame f : (Iterable<StackWalker.StackFrame>) frames::iterator) {
                String cls = f.getClassName();
                backward |= cls.equals("io.colo4j.tensor.autograd.Autograd") && f.getMethodName().equals("backwardPass");
                if (allocating == null && cls.startsWith("io.colo4j.") && PLUMBING.stream().noneMatch(cls::startsWith)) {
                    allocating = shortName(f);
                }
                if (model == null && cls.startsWith("io.colo4j.zoo.") && !cls.startsWith("io.colo4j.zoo.train.")) {
                    model = shortName(f);
                }
            }
            return allocating + (model != null ? " < " + model : "") + (backward ? " [backward]" : "");
        });
    }

    private static String shortName(StackWalker.StackFrame f) {
        String cls = f.getClassName();
        return cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethodName() + ":" + f.getLineNumber();
    }
}

package io.colo4j.cli;

import io.colo4j.zoo.memory.ByteSize;
import io.colo4j.zoo.memory.MachineMemory;

/**
 * An {@link OutOfMemoryError} as one line for the user: which memory ran out, how much there was, and what to
 * change, instead of a stack trace. Heap (-Xmx) holds text, token ids and the module tree; tensors are off-heap,
 * bounded by physical memory.
 */
final class OutOfMemory {
    private OutOfMemory() {}

    /** The OutOfMemoryError in {@code t}'s cause chain (a rank's failure wraps it), or null. */
    static OutOfMemoryError in(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof OutOfMemoryError oom) {
                return oom;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    static String describe(OutOfMemoryError e) {
        String what = String.valueOf(e.getMessage());
        boolean heap = what.contains("heap") || what.contains("array size") || what.contains("GC overhead");
        return "out of memory (" + what + "): " + (heap
                ? "the JVM's heap is at most " + ByteSize.of(MachineMemory.maxHeapBytes())
                        + "; raise it (COLO4J_JAVA_OPTS=-Xmx...) or give smaller inputs"
                : "tensors live off-heap and this machine has " + ByteSize.of(MachineMemory.physicalBytes())
                        + " of physical memory; use a smaller --config, --batch or --seq, or more --tp");
    }
}

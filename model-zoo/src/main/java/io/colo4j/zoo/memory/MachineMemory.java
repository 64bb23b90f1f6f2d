package io.colo4j.zoo.memory;

import java.lang.management.ManagementFactory;

/**
 * What bounds this process's memory. Tensors live off-heap ({@code MemorySegment}s, not counted against
 * -Xmx nor -XX:MaxDirectMemorySize), so the model's size is bounded by the machine's physical memory (the
 * container's limit when there is one: the JDK reads cgroups); the heap (-Xmx) bounds what is read into
 * arrays: text, token ids, the module tree.
 */
public final class MachineMemory {
    private MachineMemory() {}

    /** Physical memory of the machine or container, in bytes. */
    public static long physicalBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Long.MAX_VALUE; // unknown: refuse nothing on this ground
    }

    /** The heap's limit (-Xmx, or the JVM's default: a quarter of physical memory). */
    public static long maxHeapBytes() {
        return Runtime.getRuntime().maxMemory();
    }
}

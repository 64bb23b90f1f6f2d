package io.colo4j.zoo.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's minor page faults and user / system CPU time so far, from Linux's /proc/self/stat: counts, not
 * times, so a step's figures mean the same on a loaded machine (how many pages a step faults in, what share of its
 * CPU the kernel takes). {@link #now()} is null where /proc is absent.
 *
 * @param minorFaults page faults served without I/O (fresh or reclaimed pages)
 * @param userTicks   CPU time in user mode, in clock ticks
 * @param systemTicks CPU time in the kernel, in clock ticks
 */
record ProcessCounters(long minorFaults, long userTicks, long systemTicks) {
    private static final Path STAT = Path.of("/proc/self/stat");

    static ProcessCounters now() {
        try {
            String stat = Files.readString(STAT);
            // fields after the command name (which may hold spaces): state ppid pgrp session tty tpgid flags minflt
            // cminflt majflt cmajflt utime stime
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new ProcessCounters(Long.parseLong(f[7]), Long.parseLong(f[11]), Long.parseLong(f[12]));
        } catch (IOException | RuntimeException absent) {
            return null;
        }
    }

    /** What happened between {@code earlier} and this. */
    ProcessCounters since(ProcessCounters earlier) {
        return new ProcessCounters(minorFaults - earlier.minorFaults, userTicks - earlier.userTicks, systemTicks - earlier.systemTicks);
    }

    /** The kernel's share of the CPU time, 0..1. */
    double systemShare() {
        long cpu = userTicks + systemTicks;
        return cpu == 0 ? 0 : (double) systemTicks / cpu;
    }
}

package io.colo4j.tensor.comm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The process behind each rank of an MPI job: pid, start time and machine, swapped once when MPI starts.
 * With it a rank that waits in a collective can see that a peer on its own machine is gone (SIGKILL, OOM
 * killer, crash) and say which one, instead of waiting out the collective timeout and then only knowing
 * that something did not arrive. MPI itself cannot tell: a peer's death over shared memory looks like a
 * peer that is merely slow.
 *
 * <p>Linux only (it reads {@code /proc}). A peer counts as the same machine when both the boot id and the
 * pid namespace are equal, so pids are comparable; the start time (clock ticks since boot) guards against
 * a reused pid. Ranks on other machines, or anything on other systems, are never reported as exited: the
 * collective timeout remains the detector there.
 *
 * <p>{@link #hasEnded} and {@link #hostName} are public for other code that must tell whether a process that
 * left something behind (a half-written checkpoint) is still at work.
 */
public final class PeerProcesses {
    /** One rank's record on the wire: pid, start ticks, machine id (3 longs) and the host name (40 bytes). */
    static final int BYTES = 64;
    private static final int HOST_BYTES = BYTES - 3 * Long.BYTES;

    /** One rank's process; {@code machine} 0 means "cannot be compared with anything". */
    record Peer(long pid, long startTicks, long machine, String host) {
        @Override
        public String toString() {
            return "pid " + pid + " on " + host;
        }
    }

    private final Peer self;
    private final Peer[] byWorldRank;

    PeerProcesses(Peer self, Peer[] byWorldRank) {
        this.self = self;
        this.byWorldRank = byWorldRank.clone();
    }

    /** This process, as far as the system tells. */
    static Peer self() {
        long pid = ProcessHandle.current().pid();
        return new Peer(pid, startTicks(pid), machineId(), hostName());
    }

    /** Writes {@code p} as {@link #BYTES} bytes at {@code offset} (8-byte aligned). */
    static void encode(Peer p, MemorySegment to, long offset) {
        to.asSlice(offset, BYTES).fill((byte) 0);
        to.set(JAVA_LONG, offset, p.pid());
        to.set(JAVA_LONG, offset + 8, p.startTicks());
        to.set(JAVA_LONG, offset + 16, p.machine());
        byte[] host = p.host().getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(host, 0, to, JAVA_BYTE, offset + 24, Math.min(host.length, HOST_BYTES));
    }

    static Peer decode(MemorySegment from, long offset) {
        byte[] host = new byte[HOST_BYTES];
        MemorySegment.copy(from, JAVA_BYTE, offset + 24, host, 0, HOST_BYTES);
        int n = 0;
        while (n < host.length && host[n] != 0) {
            n++;
        }
        return new Peer(from.get(JAVA_LONG, offset), from.get(JAVA_LONG, offset + 8), from.get(JAVA_LONG, offset + 16),
                new String(host, 0, n, StandardCharsets.UTF_8));
    }

    Peer peer(int worldRank) {
        return byWorldRank[worldRank];
    }

    /**
     * True when world rank {@code worldRank}'s process is known to have ended: it runs on this machine (same
     * boot and pid namespace) and no live process has its pid and start time (a zombie counts as ended).
     * False when it is alive or when this cannot be told from here.
     */
    boolean exited(int worldRank) {
        Peer p = byWorldRank[worldRank];
        if (p.machine() == 0 || p.machine() != self.machine() || p.startTicks() < 0) {
            return false;
        }
        return startTicks(p.pid()) != p.startTicks();
    }

    @Override
    public String toString() {
        return Arrays.toString(byWorldRank);
    }

    /**
     * True when no live process of this machine has pid {@code pid} (a zombie counts as ended); false when one
     * has, or when this system has no /proc to tell.
     */
    public static boolean hasEnded(long pid) {
        return startTicks(ProcessHandle.current().pid()) >= 0 && startTicks(pid) < 0;
    }

    /**
     * Field 22 of /proc/PID/stat (start time in clock ticks since boot), or -1 when there is no such
     * process, it is a zombie (dead, waiting to be reaped), or /proc cannot tell.
     */
    static long startTicks(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return -1;
        }
        String[] f = stat.substring(close + 1).strip().split(" ");
        if (f.length < 20 || f[0].equals("Z") || f[0].equals("X")) {
            return -1;
        }
        try {
            return Long.parseLong(f[19]); // field 22 overall: fields 3.. start at f[0]
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * A 64-bit id equal for processes that see the same pids: same boot (boot_id) and the same pid namespace;
     * 0 when unknown.
     */
    static long machineId() {
        try {
            String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id"), StandardCharsets.US_ASCII).strip();
            String pidNamespace = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
            long h = 0xcbf29ce484222325L; // FNV-1a
            for (byte b : (boot + "/" + pidNamespace).getBytes(StandardCharsets.UTF_8)) {
                h = (h ^ (b & 0xff)) * 0x100000001b3L;
            }
            return h == 0 ? 1 : h;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The kernel's host name, without a DNS lookup (InetAddress.getLocalHost can take seconds). */
    public static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).strip();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        String env = System.getenv("HOSTNAME");
        return env != null && !env.isBlank() ? env : "an unknown host";
    }
}

package io.colo4j.tensor.comm;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.comm.PeerProcesses.Peer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PeerProcessesTest {

    @Test
    void aRecordSurvivesTheWire() {
        Peer p = new Peer(4321, 987654321L, -5L, "node-17.cluster.example");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(2L * PeerProcesses.BYTES, 8);
            PeerProcesses.encode(p, seg, PeerProcesses.BYTES);
            assertThat(PeerProcesses.decode(seg, PeerProcesses.BYTES)).isEqualTo(p);
            // host names past the record's room are cut, never spill into the next record
            Peer longName = new Peer(1, 2, 3, "h".repeat(100));
            PeerProcesses.encode(longName, seg, 0);
            assertThat(PeerProcesses.decode(seg, 0).host()).hasSize(PeerProcesses.BYTES - 24);
            assertThat(PeerProcesses.decode(seg, PeerProcesses.BYTES)).isEqualTo(p);
        }
    }

    @Test
    void aPeerOnThisMachineIsSeenToExitAndOneElsewhereNever() throws Exception {
        Peer self = PeerProcesses.self();
        assertThat(self.machine()).as("Linux /proc gives a machine id").isNotZero();
        assertThat(self.startTicks()).isPositive();
        Process child = new ProcessBuilder("sleep", "60").start();
        try {
            long ticks = PeerProcesses.startTicks(child.pid());
            Peer here = new Peer(child.pid(), ticks, self.machine(), self.host());
            Peer elsewhere = new Peer(child.pid(), ticks, self.machine() + 1, "elsewhere");
            Peer reusedPid = new Peer(child.pid(), ticks - 1, self.machine(), self.host());
            PeerProcesses peers = new PeerProcesses(self, new Peer[] {self, here, elsewhere, reusedPid});
            assertThat(peers.exited(0)).as("this process").isFalse();
            assertThat(peers.exited(1)).as("a live process").isFalse();
            assertThat(peers.exited(3)).as("the pid now belongs to a process started at another time").isTrue();
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(peers.exited(1)).as("killed and reaped").isTrue();
            assertThat(peers.exited(2)).as("another machine's pids mean nothing here").isFalse();
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aZombieCountsAsExited() throws Exception {
        // bash starts a short child, prints its pid and execs into sleep, which never reaps it: a zombie
        Process parent = new ProcessBuilder("bash", "-c", "sleep 2 & echo $!; exec sleep 60").start();
        try {
            long pid = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(parent.getInputStream())).readLine().strip());
            long ticks = PeerProcesses.startTicks(pid);
            assertThat(ticks).isPositive();
            Peer self = PeerProcesses.self();
            PeerProcesses peers = new PeerProcesses(self, new Peer[] {new Peer(pid, ticks, self.machine(), self.host())});
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!peers.exited(0) && System.nanoTime() < deadline) {
                Thread.sleep(20); // polling until the child's sleep 2 ends
            }
            assertThat(peers.exited(0)).isTrue();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("what ProcessHandle says of a zombie")
                    .hasValue(true);
        } finally {
            parent.destroyForcibly();
        }
    }
}

package io.colo4j.tensor.comm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.colo4j.tensor.comm.Collective.Header;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * How the ranks of an {@link MpiCommunicator} tell each other what they enter before every collective: a 64-byte
 * header (collective, shape, arguments) sent to every peer with MPI_Isend / MPI_Irecv and polled with MPI_Testsome
 * (spin, then yield, then short sleeps), so that a rank that never arrives is named after the timeout, and one
 * whose process has exited within about a second ({@link MpiPeerWatch}), instead of hanging in a blocking call.
 */
final class MpiHeaderExchange {
    private static final int HEADER_TAG = 3071;
    private static final long HEADER_BYTES = (long) Collective.WIRE_INTS * Integer.BYTES;

    private final MpiCommunicator comm;
    private final Mpi mpi;
    private final MemorySegment handle;
    private final MpiPeerWatch watch;
    private final MemorySegment headerOut;
    private final MemorySegment headerIn;
    private final MemorySegment requests;
    private final MemorySegment indices;
    private final MemorySegment outCount;
    private final int[] wire = new int[Collective.WIRE_INTS];

    /** Buffers for the headers of {@code comm} (MPI handle {@code handle}), allocated in {@code arena}. */
    MpiHeaderExchange(MpiCommunicator comm, Mpi mpi, MemorySegment handle, MpiPeerWatch watch, Arena arena) {
        this.comm = comm;
        this.mpi = mpi;
        this.handle = handle;
        this.watch = watch;
        int peers = Math.max(1, comm.size() - 1);
        this.headerOut = arena.allocate(HEADER_BYTES, 64);
        this.headerIn = arena.allocate(comm.size() * HEADER_BYTES, 64);
        this.requests = arena.allocate(ADDRESS, 2L * peers);
        this.indices = arena.allocate(JAVA_INT, 2L * peers);
        this.outCount = arena.allocate(JAVA_INT);
    }

    /**
     * Every rank's header, indexed by rank, for collective number {@code seq} (0-based). Throws a
     * {@link CommTimeoutException} or {@link CommAbortedException} (after which the communicator is unusable) when
     * a peer's header does not come.
     */
    Header[] exchange(Header mine, long seq) {
        String name = mine.op().label;
        int rank = comm.rank();
        int size = comm.size();
        mine.encode(wire, 0);
        MemorySegment.copy(wire, 0, headerOut, JAVA_INT, 0, wire.length);
        int n = 0;
        int[] peerOf = new int[2 * (size - 1)];
        for (int j = 0; j < size; j++) {
            if (j != rank) {
                comm.check(name, "MPI_Irecv", mpi.irecv(headerIn.asSlice(j * HEADER_BYTES, HEADER_BYTES), Collective.WIRE_INTS,
                        mpi.intType, j, HEADER_TAG, handle, requests.asSlice(n * ADDRESS.byteSize())));
                peerOf[n++] = j;
            }
        }
        for (int j = 0; j < size; j++) {
            if (j != rank) {
                comm.check(name, "MPI_Isend", mpi.isend(headerOut, Collective.WIRE_INTS, mpi.intType, j, HEADER_TAG, handle,
                        requests.asSlice(n * ADDRESS.byteSize())));
                peerOf[n++] = -1 - j;
            }
        }
        watch.waitingFor(name);
        try {
            waitAll(name, seq, n, peerOf);
        } finally {
            watch.waitingFor(null);
        }
        Header[] all = new Header[size];
        int[] in = new int[size * Collective.WIRE_INTS];
        MemorySegment.copy(headerIn, JAVA_INT, 0, in, 0, in.length);
        for (int j = 0; j < size; j++) {
            all[j] = j == rank ? mine : Header.decode(in, j * Collective.WIRE_INTS);
        }
        return all;
    }

    private void waitAll(String name, long seq, int n, int[] peerOf) {
        boolean[] done = new boolean[n];
        int remaining = n;
        long start = System.nanoTime();
        long timeoutNanos = nanos(comm.timeout());
        long livenessCheck = MpiPeerWatch.LIVENESS_CHECK_NANOS;
        while (true) {
            comm.check(name, "MPI_Testsome", mpi.testsome(n, requests, outCount, indices));
            int completed = outCount.get(JAVA_INT, 0);
            if (completed != Mpi.UNDEFINED) {
                for (int i = 0; i < completed; i++) {
                    int idx = indices.getAtIndex(JAVA_INT, i);
                    if (!done[idx]) {
                        done[idx] = true;
                        remaining--;
                    }
                }
            } else {
                remaining = 0;
            }
            if (remaining == 0) {
                return;
            }
            long waited = System.nanoTime() - start;
            if (timeoutNanos > 0 && waited > timeoutNanos) {
                throw timedOut(name, seq, n, peerOf, done, waited);
            }
            if (waited > livenessCheck) {
                // a peer that died will never send its header: say so now rather than after the timeout
                livenessCheck = waited + MpiPeerWatch.LIVENESS_CHECK_NANOS;
                for (int i = 0; i < n; i++) {
                    int peer = peerOf[i] >= 0 ? peerOf[i] : -1 - peerOf[i];
                    if (!done[i] && watch.exited(peer)) {
                        throw peerExited(name, seq, n, peerOf, done, peer);
                    }
                }
            }
            if (waited < 100_000) {
                Thread.onSpinWait();
            } else if (waited < 20_000_000) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(waited < 1_000_000_000L ? 100_000 : 1_000_000);
            }
        }
    }

    private CommTimeoutException timedOut(String name, long seq, int n, int[] peerOf, boolean[] done, long waited) {
        List<Integer> missing = abandon(n, peerOf, done);
        List<String> names = new ArrayList<>();
        for (int r : missing) {
            names.add(watch.exited(r) ? watch.describeProcess(r) + ", which has exited" : comm.describe(r));
        }
        String msg = "colo4j comm: " + name + " (#" + (seq + 1) + ") on " + comm.where() + " timed out after " + ThreadWorld.seconds(waited)
                + " waiting for " + (names.isEmpty() ? "its header sends to complete" : String.join(", ", names))
                + " (timeout: system property colo4j.comm.timeout, seconds)";
        return new CommTimeoutException(name, comm.rank(), missing, msg);
    }

    private CommAbortedException peerExited(String name, long seq, int n, int[] peerOf, boolean[] done, int peer) {
        abandon(n, peerOf, done);
        String msg = "colo4j comm: " + name + " (#" + (seq + 1) + ") on " + comm.where() + " cannot complete: "
                + MpiPeerWatch.exitedText(List.of(watch.describeProcess(peer))) + " (killed or crashed) before joining it; an MPI"
                + " job cannot go on without one of its ranks";
        return new CommAbortedException(name, comm.rank(), comm.worldRanks()[peer], msg, null);
    }

    /** Cancels the header receives still pending and frees every pending request; returns the ranks not heard from. */
    private List<Integer> abandon(int n, int[] peerOf, boolean[] done) {
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            MemorySegment req = requests.asSlice(i * ADDRESS.byteSize(), ADDRESS.byteSize());
            if (!done[i]) {
                if (peerOf[i] >= 0) {
                    missing.add(peerOf[i]);
                    mpi.cancel(req);
                }
                mpi.requestFree(req);
            }
        }
        return missing;
    }

    /** A timeout in nanoseconds; 0 for none (zero or negative). */
    static long nanos(Duration t) {
        if (t.isZero() || t.isNegative()) {
            return 0;
        }
        try {
            return t.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }
}

package io.colo4j.tensor.comm;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether the peers of an {@link MpiCommunicator} are still alive, and what to do when one is not. Each rank's
 * process is known once MPI starts ({@link PeerProcesses}); a peer on this machine whose process has ended is
 * reported as exited. A watchdog thread watches every blocking MPI data call: one that still runs after a peer
 * exited, or after the communicator's timeout although every rank joined it, prints what is stuck and ends the
 * process (MPI cannot tell a dead peer from a slow one over shared memory, so the call would never return). A
 * rank stopped from outside (mpirun's SIGTERM after another rank died) names the ranks already gone from a
 * shutdown hook.
 */
final class MpiPeerWatch {
    /** How long a collective waits before looking for peers whose process has ended, and how often after that. */
    static final long LIVENESS_CHECK_NANOS = 1_000_000_000L;
    private static final Set<MpiPeerWatch> LIVE = ConcurrentHashMap.newKeySet();
    private static Thread watchdog;
    /** Each world rank's process, swapped when MPI starts (null in a 1-rank job). */
    private static volatile PeerProcesses peers;

    private final MpiCommunicator comm;
    /** When the running MPI data call began; meaningful while {@link #dataOp} is set (written first). */
    private volatile long dataSince;
    /** The collective whose MPI data call is running, null when none. */
    private volatile String dataOp;
    /** The collective whose headers this rank is waiting for, null when none. */
    private volatile String waitingOp;

    /** Watches {@code comm} until {@link #close()}. */
    MpiPeerWatch(MpiCommunicator comm) {
        this.comm = comm;
        LIVE.add(this);
    }

    /** Knows every world rank's process from now on, and reports exited peers if {@code world}'s process is stopped. */
    static void start(PeerProcesses processes, MpiCommunicator world) {
        peers = processes;
        // mpirun ends the other ranks with SIGTERM when one dies; say from this side which one it was
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("colo4j-mpi-exit-report").unstarted(() -> reportOnShutdown(world)));
    }

    void close() {
        LIVE.remove(this);
    }

    // ---- what the communicator is doing -------------------------------------------------------------------------

    /** A blocking MPI data call of {@code op} starts: the watchdog watches it. */
    void dataBegins(String op) {
        dataSince = System.nanoTime();
        dataOp = op;
        startWatchdog();
    }

    void dataEnds() {
        dataOp = null;
    }

    /** Waiting for the headers of {@code op} (null: no longer waiting). */
    void waitingFor(String op) {
        waitingOp = op;
    }

    // ---- peers --------------------------------------------------------------------------------------------------

    /** Rank {@code r} of the communicator with its process, e.g. "rank 1 (pid 5007 on node3)". */
    String describeProcess(int r) {
        PeerProcesses p = peers;
        if (p == null) {
            return comm.describe(r);
        }
        int world = comm.worldRanks()[r];
        return comm.isWorld() ? "rank " + r + " (" + p.peer(r) + ")" : "rank " + r + " (world rank " + world + ", " + p.peer(world) + ")";
    }

    /** Whether rank {@code r} of the communicator is known to have exited (see {@link PeerProcesses#exited}). */
    boolean exited(int r) {
        PeerProcesses p = peers;
        return p != null && r != comm.rank() && p.exited(comm.worldRanks()[r]);
    }

    /** The other ranks of the communicator whose process is known to have exited, described. */
    List<String> exitedPeers() {
        List<String> gone = new ArrayList<>();
        for (int r = 0; r < comm.size(); r++) {
            if (exited(r)) {
                gone.add(describeProcess(r));
            }
        }
        return gone;
    }

    static String exitedText(List<String> gone) {
        return String.join(", ", gone) + (gone.size() == 1 ? " has" : " have") + " exited";
    }

    // ---- the watchdog and the shutdown report ---------------------------------------------------------------------

    private static synchronized void startWatchdog() {
        if (watchdog != null) {
            return;
        }
        watchdog = Thread.ofPlatform().name("colo4j-mpi-watchdog").daemon(true).start(() -> {
            while (true) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
                LIVE.forEach(MpiPeerWatch::checkDataCall);
            }
        });
    }

    /** Ends the process when the running data call cannot finish: a peer exited, or the timeout passed. */
    private void checkDataCall() {
        String op = dataOp;
        if (op == null) {
            return;
        }
        long busy = System.nanoTime() - dataSince;
        // a blocking MPI call never returns when a peer dies mid-transfer (over shared memory MPI cannot tell a
        // dead peer from a slow one): look for one on this machine, else wait out the timeout
        List<String> gone = busy > LIVENESS_CHECK_NANOS ? exitedPeers() : List.of();
        long limit = MpiHeaderExchange.nanos(comm.timeout());
        if (!gone.isEmpty()) {
            System.err.println("colo4j comm: MPI " + op + " on " + comm.where() + " cannot finish: " + exitedText(gone)
                    + " (killed or crashed) during it; aborting the MPI job");
            comm.abortJob(1);
        } else if (limit > 0 && busy > limit) {
            System.err.println("colo4j comm: MPI " + op + " on " + comm.where() + " did not finish within "
                    + comm.timeout().toSeconds() + " s although every rank had joined it; aborting the MPI job");
            comm.abortJob(1);
        }
    }

    /**
     * Shutdown hook: a rank stopped before the world communicator was closed (mpirun's SIGTERM after another
     * rank died, Ctrl-C) names the ranks whose process had already ended, so the survivors' output says which
     * rank brought the job down, not only mpirun's summary. Preferably those of the collective it was waiting
     * in: by the time the hook runs mpirun may have stopped other ranks too, which are not the cause. Prints
     * nothing after a normal finish.
     */
    private static void reportOnShutdown(MpiCommunicator world) {
        if (world.isClosed()) {
            return;
        }
        String where = "";
        List<String> gone = List.of();
        for (MpiPeerWatch w : LIVE) {
            String op = w.waitingOp != null ? w.waitingOp : w.dataOp;
            List<String> exited = op == null ? List.of() : w.exitedPeers();
            if (!exited.isEmpty()) {
                where = ", in " + op + (w.comm == world ? "" : " on " + w.comm.where()) + ", where ";
                gone = exited;
                break;
            }
        }
        if (gone.isEmpty()) {
            where = ", and ";
            gone = world.peerWatch().exitedPeers();
        }
        if (!gone.isEmpty()) {
            System.err.println("colo4j comm: " + world.where() + " is stopped before the job finished" + where + exitedText(gone)
                    + ": mpirun ends every rank when one dies");
            System.err.flush();
        }
    }
}

package io.colo4j.tensor.comm;

import java.time.Duration;
import java.util.Map;

/**
 * Picks the backend. Under {@code mpirun} (the environment has {@code OMPI_COMM_WORLD_SIZE} or
 * {@code PMIX_RANK}) the world is MPI's: {@link #world()} returns {@link MpiCommunicator#world()}. Otherwise
 * ranks live in this JVM: {@link #world()} is a 1-rank world, and N in-JVM ranks come from
 * {@link ThreadWorld#run(int, RankBody)} / {@link ThreadWorld#call(int, RankFunction)}, which start one
 * thread per rank. {@link #launch} covers both: a program written against it runs as N threads when started
 * plainly and as one rank per process under mpirun.
 */
public final class Communicators {
    /** System property: collective timeout in seconds (decimals allowed; 0 or less waits forever). */
    public static final String TIMEOUT_PROPERTY = "colo4j.comm.timeout";
    /** Default collective timeout: 5 minutes. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private Communicators() {}

    /** True when this process was started by mpirun (Open MPI's or PMIx's rank variables are set). */
    public static boolean underMpi() {
        return underMpi(System.getenv());
    }

    static boolean underMpi(Map<String, String> env) {
        return env.containsKey("OMPI_COMM_WORLD_SIZE") || env.containsKey("PMIX_RANK");
    }

    /**
     * This process's world: MPI's when under mpirun, else a 1-rank in-JVM world (for N in-JVM ranks use
     * {@link ThreadWorld}).
     */
    public static Communicator world() {
        return underMpi() ? MpiCommunicator.world() : new ThreadWorld(1).communicator(0);
    }

    /** The timeout collectives use unless told otherwise: {@value #TIMEOUT_PROPERTY} seconds, else 5 minutes. */
    public static Duration defaultTimeout() {
        String v = System.getProperty(TIMEOUT_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_TIMEOUT;
        }
        try {
            double seconds = Double.parseDouble(v.strip());
            return Duration.ofNanos((long) (seconds * 1e9));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + TIMEOUT_PROPERTY + "=" + v + " is not a number of seconds", e);
        }
    }

    /**
     * Runs {@code body} on every rank. Under mpirun: once in this process with the MPI world; if the body throws,
     * the failure is printed ("colo4j: rank R of N failed: ...") and the process exits with status 1 at once,
     * so mpirun kills the other ranks and exits non-zero; otherwise MPI is finalized. Else: on {@code inJvmRanks} threads of a
     * {@link ThreadWorld}, rethrowing the first failure as a {@link RankFailedException}.
     */
    public static void launch(int inJvmRanks, RankBody body) {
        if (!underMpi()) {
            ThreadWorld.run(inJvmRanks, body);
            return;
        }
        MpiCommunicator comm = MpiCommunicator.world();
        try {
            body.run(comm);
        } catch (Throwable t) {
            System.out.flush();
            // one line, as the CLI prints an in-JVM rank's failure; the trace only for a bug or when asked for
            System.err.println("colo4j: rank " + comm.rank() + " of " + comm.size() + " failed: " + FailureLine.of(t));
            if (FailureLine.isBug(t) || FailureLine.traceWanted()) {
                t.printStackTrace();
            }
            System.err.flush();
            comm.abortJob(1);
        }
        comm.close();
    }
}

package io.colo4j.cli;

import io.colo4j.tensor.comm.Communicators;

/**
 * Under mpirun a command runs one rank per process ({@link Communicators#launch}): the process count must be the
 * ranks the options ask for, and only the first process talks to the user.
 */
final class MpiProcesses {
    private MpiProcesses() {}

    /** The processes mpirun started, or -1 when this process was not started by mpirun. */
    static int world() {
        return Communicators.underMpi() ? Integer.parseInt(System.getenv().getOrDefault("OMPI_COMM_WORLD_SIZE", "-1")) : -1;
    }

    /** Refuses a process count other than {@code ranks}, which {@code asked} (the options, e.g. "--tp 2 x --dp 1") asks for. */
    static void require(int ranks, String asked) {
        int world = world();
        if (world > 0 && world != ranks) {
            throw new IllegalArgumentException("mpirun started " + world + " processes but " + asked + " = " + ranks
                    + " ranks are needed: one process per rank");
        }
    }

    /** True unless this is a process of mpirun other than rank 0. */
    static boolean first() {
        return world() <= 0 || "0".equals(System.getenv("OMPI_COMM_WORLD_RANK"));
    }
}

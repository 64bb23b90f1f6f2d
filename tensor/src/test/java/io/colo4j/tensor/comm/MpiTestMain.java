package io.colo4j.tensor.comm;

import io.colo4j.tensor.Tensor;

/**
 * What each rank of the MPI tests runs (started by {@link MpiCommunicatorTest} through mpirun). Scenarios:
 * <ul>
 *   <li>{@code collectives}: every collective checked exactly, the random bitwise check, mismatches (2+ ranks),
 *       a 2 x 2 mesh (4 ranks), all of it twice: with whole MPI calls and with every transfer chunked into
 *       7-float MPI calls (the path that buffers past 2^31 floats take). Prints "rank R of N: ALL OK".</li>
 *   <li>{@code throw}: rank 1 throws while the others are in an all-reduce, inside {@link Communicators#launch}.</li>
 *   <li>{@code throw-plain}: the same from a plain main, the exception escaping it.</li>
 *   <li>{@code timeout}: rank 1 sleeps through a short timeout (-Dcolo4j.comm.timeout) instead of joining.</li>
 *   <li>{@code killed-before-header}: rank 0 enters an all-reduce that rank 1 never joins; rank 1 prints
 *       "rank 1 waits to be killed" and sleeps until the test kills it.</li>
 *   <li>{@code killed-in-data}: rank 1 swaps the all-reduce's header (so rank 0 enters the blocking MPI call) but
 *       never makes the call; then as above.</li>
 * </ul>
 */
public final class MpiTestMain {
    private MpiTestMain() {}

    public static void main(String[] args) throws Exception {
        String scenario = args.length > 0 ? args[0] : "collectives";
        switch (scenario) {
            case "collectives" -> Communicators.launch(1, comm -> {
                if (!(comm instanceof MpiCommunicator mpi)) {
                    throw new IllegalStateException("expected the MPI backend under mpirun, got " + comm);
                }
                for (int chunk : new int[] {Integer.MAX_VALUE, 7}) {
                    MpiCommunicator.maxCount = chunk;
                    long t0 = System.nanoTime();
                    CollectiveChecks.all(comm, chunk == 7 ? 301 : 10_007);
                    if (comm.size() > 1) {
                        CollectiveChecks.mismatches(comm);
                    }
                    if (comm.size() == 4) {
                        CollectiveChecks.mesh(comm, 2);
                    }
                    int hash = CollectiveChecks.randomBitwise(comm, chunk == 7 ? 1001 : 100_003);
                    // one write per line: mpirun interleaves the ranks' output at write boundaries
                    System.out.println(String.format("rank %d of %d: maxCount %d random allReduce hash %s (%.2f s)", comm.rank(),
                            comm.size(), chunk, Integer.toHexString(hash), (System.nanoTime() - t0) / 1e9));
                }
                MpiCommunicator.maxCount = Integer.MAX_VALUE;
                // MPI_ERRORS_RETURN is set: a bad call returns a code, and MPI_Error_string explains it
                Mpi lib = Mpi.load();
                try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                    int rc = lib.bcast(arena.allocate(4), 1, lib.floatType, comm.size() + 5, lib.commWorld);
                    String text = lib.errorString(rc);
                    if (rc == Mpi.SUCCESS || !text.toLowerCase(java.util.Locale.ROOT).contains("root")) {
                        throw new AssertionError("MPI_Bcast with a bad root returned " + rc + ": " + text);
                    }
                    System.out.println("rank " + comm.rank() + " of " + comm.size() + ": bad root -> MPI error " + rc + ": " + text);
                }
                System.out.println("rank " + comm.rank() + " of " + comm.size() + ": ALL OK (" + mpi.backend() + ", world rank "
                        + mpi.worldRank() + ")");
            });
            case "throw" -> Communicators.launch(1, comm -> rankOneThrows(comm, "boom from rank 1"));
            case "throw-plain" -> {
                Communicator comm = MpiCommunicator.world();
                rankOneThrows(comm, "plain boom from rank 1");
                comm.close();
            }
            case "timeout" -> Communicators.launch(1, comm -> {
                comm.barrier();
                if (comm.rank() == 1) {
                    Thread.sleep(60_000);
                }
                comm.allReduce(Tensor.ones(4));
                System.out.println("rank " + comm.rank() + ": UNREACHABLE");
            });
            case "killed-before-header", "killed-in-data" -> Communicators.launch(1, comm -> {
                comm.barrier();
                if (comm.rank() == 1) {
                    if (scenario.equals("killed-in-data")) {
                        MpiCommunicator mpi = (MpiCommunicator) comm;
                        mpi.exchange(Collective.Header.of(Collective.Op.ALL_REDUCE, mpi.seq, new int[] {4}, 0, 0), null);
                    }
                    System.out.println("rank 1 waits to be killed");
                    System.out.flush();
                    Thread.sleep(120_000);
                }
                comm.allReduce(Tensor.ones(4));
                System.out.println("rank " + comm.rank() + ": UNREACHABLE");
            });
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    /** Rank 1 throws between two all-reduces; the others must never get past the second. */
    private static void rankOneThrows(Communicator comm, String message) throws InterruptedException {
        Tensor t = Tensor.ones(4);
        comm.allReduce(t);
        if (comm.rank() == 1) {
            Thread.sleep(300);
            throw new IllegalStateException(message);
        }
        comm.allReduce(t);
        System.out.println("rank " + comm.rank() + ": UNREACHABLE");
    }
}

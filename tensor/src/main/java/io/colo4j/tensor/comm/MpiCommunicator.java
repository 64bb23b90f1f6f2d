package io.colo4j.tensor.comm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.colo4j.tensor.comm.Collective.Header;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Ranks are processes started by {@code mpirun}; collectives are Open MPI's, called through
 * java.lang.foreign on the tensors' own off-heap memory (no copies except the local reordering that
 * all-gather / reduce-scatter / all-to-all along a non-leading dim need around the flat MPI call).
 * Counts are C ints: buffers past 2^31 - 1 floats are moved in chunks.
 *
 * <p><b>Checks and timeouts.</b> Before every collective the ranks swap a 64-byte header (collective, shape,
 * arguments) point to point ({@link MpiHeaderExchange}). Mismatched calls throw a {@link CommMismatchException} on every rank. A rank whose header
 * has not arrived after {@link #timeout()} is named in a {@link CommTimeoutException}; the communicator is
 * unusable afterwards. The exchange is also what makes {@link #barrier()} a barrier. Once every rank has
 * arrived the blocking MPI collective runs; should it still not finish within the timeout (a peer killed
 * mid-transfer), a watchdog thread ({@link MpiPeerWatch}) prints what is stuck and ends the process ({@link #abortJob}).
 *
 * <p><b>Dead peers.</b> When MPI starts the ranks swap their pid, start time and machine ({@link PeerProcesses}).
 * A collective that has waited a second looks, once a second, for peers on this machine whose process has
 * ended (SIGKILL, OOM killer, crash): waiting for a header it throws a {@link CommAbortedException} naming the
 * rank; stuck in the MPI call the watchdog names it and ends the process. Either way the job ends within
 * about two seconds, not after the timeout, which still covers ranks on other machines. A rank that is
 * stopped (mpirun's SIGTERM after another rank died) names the ranks already gone from a shutdown hook.
 *
 * <p><b>Failures end the job.</b> MPI cannot fail one collective and carry on, so a rank that throws must end
 * its process non-zero: mpirun then kills the other ranks (about 2 s with Open MPI 4.1) and itself exits
 * non-zero. {@link Communicators#launch} does this at once (prints the failure, then {@link #abortJob}); a plain
 * {@code main} that lets the exception escape also works as long as no non-daemon thread keeps the JVM
 * alive. MPI_Finalize runs when the world communicator is closed (never from a shutdown hook: it would wait
 * for ranks that are gone).
 *
 * <p>MPI is initialised with MPI_THREAD_MULTIPLE; Open MPI's handles are the addresses of its predefined
 * global objects, and every communicator gets MPI_ERRORS_RETURN so failures come back as MPI's own text.
 */
public final class MpiCommunicator extends AbstractCommunicator {
    /**
     * Largest count passed to one MPI call (C int). Tests lower it to exercise the chunked paths without
     * 8 GiB buffers.
     */
    static volatile int maxCount = Integer.MAX_VALUE;
    private static MpiCommunicator world;

    private final Mpi mpi;
    private final MemorySegment comm;
    private final boolean isWorld;
    private final int rank;
    private final int size;
    private final int[] worldRanks;
    private volatile Duration timeout;
    private final Arena arena = Arena.ofShared();
    private final MpiPeerWatch watch;
    private final MpiHeaderExchange headers;
    private volatile String broken;

    private MpiCommunicator(Mpi mpi, MemorySegment comm, boolean isWorld, int[] worldRanks, Duration timeout) {
        this.mpi = mpi;
        this.comm = comm;
        this.isWorld = isWorld;
        this.timeout = timeout;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check("MPI_Comm_rank", mpi.commRank(comm, out));
            this.rank = out.get(JAVA_INT, 0);
            check("MPI_Comm_size", mpi.commSize(comm, out));
            this.size = out.get(JAVA_INT, 0);
        }
        this.worldRanks = worldRanks != null ? worldRanks : IntStream.range(0, size).toArray();
        this.watch = new MpiPeerWatch(this);
        this.headers = new MpiHeaderExchange(this, mpi, comm, watch, arena);
    }

    /**
     * The MPI_COMM_WORLD communicator of this process, initialising MPI (MPI_THREAD_MULTIPLE) on first use.
     * Without mpirun this is a 1-rank job. Timeout: {@link Communicators#defaultTimeout()}.
     */
    public static MpiCommunicator world() {
        return world(Communicators.defaultTimeout());
    }

    /** As {@link #world()}, and sets the world communicator's timeout (inherited by later splits). */
    public static synchronized MpiCommunicator world(Duration timeout) {
        if (world != null) {
            if (world.closed) {
                throw new IllegalStateException("MPI was finalized when the world communicator was closed; it cannot be reinitialised");
            }
            world.timeout = timeout;
            return world;
        }
        Mpi mpi = Mpi.load();
        if (mpi.isFinalized()) {
            throw new IllegalStateException("MPI was already finalized in this process");
        }
        if (!mpi.isInitialized()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment provided = a.allocate(JAVA_INT);
                int rc = mpi.initThread(Mpi.THREAD_MULTIPLE, provided);
                if (rc != Mpi.SUCCESS) {
                    throw new CommException("init", -1, "colo4j comm: MPI_Init_thread failed: " + mpi.errorString(rc));
                }
                int level = provided.get(JAVA_INT, 0);
                if (level < Mpi.THREAD_MULTIPLE) {
                    System.err.println("colo4j comm: warning: Open MPI provides thread level " + level
                            + " < MPI_THREAD_MULTIPLE; use each communicator from one thread at a time");
                }
            }
        }
        int rc = mpi.setErrorsReturn(mpi.commWorld);
        if (rc != Mpi.SUCCESS) {
            throw new CommException("init", -1, "colo4j comm: MPI_Comm_set_errhandler failed: " + mpi.errorString(rc));
        }
        world = new MpiCommunicator(mpi, mpi.commWorld, true, null, timeout);
        if (world.size > 1) {
            MpiPeerWatch.start(world.swapPeers(), world);
        }
        if (world.size > 1 && world.rank == 0 && System.getenv("MALLOC_ARENA_MAX") == null) {
            System.err.println("colo4j comm: warning: MALLOC_ARENA_MAX is not set; large MPI collectives run up to 2x"
                    + " slower in a JVM (glibc's per-thread arenas return Open MPI's scratch buffers to the kernel after"
                    + " every call). bin/colo4j sets MALLOC_ARENA_MAX=1; with plain java use mpirun -x MALLOC_ARENA_MAX=1");
        }
        return world;
    }

    /** Open MPI's version string (MPI_Get_library_version). */
    public String libraryVersion() {
        return mpi.libraryVersion();
    }

    /**
     * Ends this process now with {@code exitCode} (non-zero; 1 if given 0), after flushing stdout and stderr;
     * mpirun sees a rank exit non-zero and kills the others (about 2 s with Open MPI 4.1). Exiting is used
     * rather than MPI_Abort because MPI_Abort tears the job down before mpirun has forwarded what the ranks
     * printed, which loses the very message saying why. Shutdown hooks do not run. Does not return.
     */
    public void abortJob(int exitCode) {
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(exitCode == 0 ? 1 : exitCode);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String backend() {
        return "mpi";
    }

    @Override
    public Duration timeout() {
        return timeout;
    }

    /** This rank's rank in MPI_COMM_WORLD. */
    public int worldRank() {
        return worldRanks[rank];
    }

    @Override
    public String toString() {
        return "MpiCommunicator[" + where() + "]";
    }

    @Override
    protected int[] worldRanks() {
        return worldRanks;
    }

    @Override
    protected boolean isWorld() {
        return isWorld;
    }

    @Override
    protected String worldRankName() {
        return "MPI world rank";
    }

    boolean isClosed() {
        return closed;
    }

    MpiPeerWatch peerWatch() {
        return watch;
    }

    /** Every world rank's process (pid, start time, machine): one MPI_Allgather when MPI starts. */
    private PeerProcesses swapPeers() {
        PeerProcesses.Peer me = PeerProcesses.self();
        int ints = PeerProcesses.BYTES / Integer.BYTES;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mine = a.allocate(PeerProcesses.BYTES, 8);
            PeerProcesses.encode(me, mine, 0);
            MemorySegment all = a.allocate((long) size * PeerProcesses.BYTES, 8);
            check("init", "MPI_Allgather", mpi.allgather(mine, ints, mpi.intType, all, ints, mpi.intType, comm));
            PeerProcesses.Peer[] byRank = new PeerProcesses.Peer[size];
            for (int r = 0; r < size; r++) {
                byRank[r] = PeerProcesses.decode(all, (long) r * PeerProcesses.BYTES);
            }
            return new PeerProcesses(me, byRank);
        }
    }

    /**
     * Frees this communicator (MPI_Comm_free) or, for the world, finalizes MPI (MPI_Finalize, which waits for
     * every rank to finalize too).
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        watch.close();
        if (isWorld) {
            synchronized (MpiCommunicator.class) {
                if (!mpi.isFinalized()) {
                    check("MPI_Finalize", mpi.finalizeMpi());
                }
            }
        } else if (broken == null && !mpi.isFinalized()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ptr = a.allocate(ADDRESS);
                ptr.set(ADDRESS, 0, comm);
                check("MPI_Comm_free", mpi.commFree(ptr));
            }
        }
    }

    // ---- header exchange ------------------------------------------------------------------------------------

    @Override
    protected Header[] exchange(Header mine, MemorySegment data) {
        String name = mine.op().label;
        if (broken != null) {
            throw new CommException(name, rank, "colo4j comm: " + name + " on " + where()
                    + ": this communicator is unusable after an earlier failure: " + broken);
        }
        if (size == 1) {
            return new Header[] {mine};
        }
        try {
            return headers.exchange(mine, seq);
        } catch (CommTimeoutException | CommAbortedException e) {
            broken = e.getMessage();
            throw e;
        }
    }

    // ---- data movement ---------------------------------------------------------------------------------------

    @Override
    protected void allReduceData(MemorySegment data) {
        if (size == 1) {
            return;
        }
        begin("allReduce");
        try {
            inPieces("allReduce", "MPI_Allreduce", data.byteSize() / Float.BYTES, (off, c) ->
                    mpi.allreduce(Mpi.IN_PLACE, data.asSlice(off * Float.BYTES), c, mpi.floatType, mpi.opSum, comm));
        } finally {
            end();
        }
    }

    @Override
    protected void allGatherData(MemorySegment local, int[] localShape, int dim, MemorySegment out) {
        long c = local.byteSize() / Float.BYTES;
        long outer = Collective.outer(localShape, dim);
        if (size == 1) {
            MemorySegment.copy(local, 0, out, 0, local.byteSize());
            return;
        }
        begin("allGather");
        try (Arena temp = Arena.ofConfined()) {
            if (outer == 1) {
                gather(local, c, out);
            } else {
                MemorySegment all = temp.allocate(out.byteSize(), 64);
                gather(local, c, all);
                long run = localShape[dim] * Collective.inner(localShape, dim);
                for (int j = 0; j < size; j++) {
                    FloatOps.copyBlocks(all, j * c, run, out, j * run, size * run, outer, run);
                }
            }
        } finally {
            end();
        }
    }

    /** MPI_Allgather of {@code c} floats per rank into {@code recv} (rank j's block at j*c). */
    private void gather(MemorySegment send, long c, MemorySegment recv) {
        if (c <= maxCount) {
            check("allGather", "MPI_Allgather", mpi.allgather(send, (int) c, mpi.floatType, recv, (int) c, mpi.floatType, comm));
            return;
        }
        inPieces("allGather", "MPI_Allgather", c, (off, k) -> {
            MemorySegment block = blockType("allGather", k, c);
            try {
                return mpi.allgather(send.asSlice(off * Float.BYTES), k, mpi.floatType, recv.asSlice(off * Float.BYTES), 1, block, comm);
            } finally {
                freeType(block);
            }
        });
    }

    @Override
    protected void reduceScatterData(MemorySegment full, int[] fullShape, int dim, MemorySegment out) {
        if (size == 1) {
            MemorySegment.copy(full, 0, out, 0, full.byteSize());
            return;
        }
        long c = out.byteSize() / Float.BYTES;
        long outer = Collective.outer(fullShape, dim);
        begin("reduceScatter");
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment send = full;
            if (outer != 1) {
                send = temp.allocate(full.byteSize(), 64);
                long inner = Collective.inner(fullShape, dim);
                long run = (fullShape[dim] / size) * inner;
                long stride = fullShape[dim] * inner;
                for (int j = 0; j < size; j++) {
                    FloatOps.copyBlocks(full, j * run, stride, send, j * c, run, outer, run);
                }
            }
            if (c <= maxCount) {
                MemorySegment counts = temp.allocate(JAVA_INT, size);
                for (int j = 0; j < size; j++) {
                    counts.setAtIndex(JAVA_INT, j, (int) c);
                }
                check("reduceScatter", "MPI_Reduce_scatter",
                        mpi.reduceScatter(send, out, counts, mpi.floatType, mpi.opSum, comm));
            } else {
                // past the C int limit: one MPI_Reduce per destination rank and chunk (each element is still
                // reduced in exactly one place)
                for (long off = 0, max = maxCount; off < c; off += max) {
                    int k = (int) Math.min(max, c - off);
                    for (int j = 0; j < size; j++) {
                        check("reduceScatter", "MPI_Reduce", mpi.reduce(send.asSlice((j * c + off) * Float.BYTES),
                                out.asSlice(off * Float.BYTES), k, mpi.floatType, mpi.opSum, j, comm));
                    }
                }
            }
        } finally {
            end();
        }
    }

    @Override
    protected void broadcastData(MemorySegment data, int root) {
        if (size == 1) {
            return;
        }
        begin("broadcast");
        try {
            inPieces("broadcast", "MPI_Bcast", data.byteSize() / Float.BYTES, (off, c) ->
                    mpi.bcast(data.asSlice(off * Float.BYTES), c, mpi.floatType, root, comm));
        } finally {
            end();
        }
    }

    @Override
    protected void allToAllData(MemorySegment local, int[] localShape, int splitDim, int concatDim,
                                MemorySegment out, int[] outShape) {
        long c = local.byteSize() / Float.BYTES / size;
        int[] partShape = localShape.clone();
        partShape[splitDim] /= size;
        begin("allToAll");
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment send = local;
            if (Collective.outer(localShape, splitDim) != 1) {
                send = temp.allocate(local.byteSize(), 64);
                for (int j = 0; j < size; j++) {
                    FloatOps.copyPart(local, localShape, splitDim, j, size,
                            send.asSlice(j * c * Float.BYTES, c * Float.BYTES), partShape, 0, 0, 1);
                }
            }
            boolean direct = Collective.outer(outShape, concatDim) == 1;
            MemorySegment recv = direct ? out : temp.allocate(out.byteSize(), 64);
            if (size == 1) {
                MemorySegment.copy(send, 0, recv, 0, send.byteSize());
            } else if (c <= maxCount) {
                check("allToAll", "MPI_Alltoall", mpi.alltoall(send, (int) c, mpi.floatType, recv, (int) c, mpi.floatType, comm));
            } else {
                MemorySegment from = send;
                inPieces("allToAll", "MPI_Alltoall", c, (off, k) -> {
                    MemorySegment block = blockType("allToAll", k, c);
                    try {
                        return mpi.alltoall(from.asSlice(off * Float.BYTES), 1, block, recv.asSlice(off * Float.BYTES), 1, block, comm);
                    } finally {
                        freeType(block);
                    }
                });
            }
            if (!direct) {
                for (int j = 0; j < size; j++) {
                    FloatOps.copyPart(recv.asSlice(j * c * Float.BYTES, c * Float.BYTES), partShape, 0, 0, 1,
                            out, outShape, concatDim, j, size);
                }
            }
        } finally {
            end();
        }
    }

    /** One MPI call on a piece of a buffer: floats from {@code offset}, {@code count} of them; returns MPI's code. */
    @FunctionalInterface
    private interface Piece {
        int call(long offset, int count);
    }

    /** {@code piece} on each run of at most {@link #maxCount} of {@code count} floats (MPI counts are C ints), in order. */
    private void inPieces(String op, String fn, long count, Piece piece) {
        for (long off = 0, max = maxCount; off < count; off += max) {
            check(op, fn, piece.call(off, (int) Math.min(max, count - off)));
        }
    }

    /** {@code k} contiguous floats whose extent is a whole rank block of {@code blockFloats} floats. */
    private MemorySegment blockType(String op, int k, long blockFloats) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t1 = a.allocate(ADDRESS);
            MemorySegment t2 = a.allocate(ADDRESS);
            check(op, "MPI_Type_contiguous", mpi.typeContiguous(k, mpi.floatType, t1));
            MemorySegment contiguous = t1.get(ADDRESS, 0);
            check(op, "MPI_Type_create_resized", mpi.typeCreateResized(contiguous, 0, blockFloats * Float.BYTES, t2));
            check(op, "MPI_Type_free", mpi.typeFree(t1));
            check(op, "MPI_Type_commit", mpi.typeCommit(t2));
            return t2.get(ADDRESS, 0);
        }
    }

    private void freeType(MemorySegment type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            p.set(ADDRESS, 0, type);
            mpi.typeFree(p);
        }
    }

    @Override
    protected void barrierData() {
        // every rank has received every other rank's header: that was the barrier
    }

    @Override
    protected Communicator splitData(int[] members, int color, int key) {
        int[] childWorldRanks = worldRanksOf(members);
        MemorySegment handle;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ptr = a.allocate(ADDRESS);
            begin("split");
            try {
                check("split", "MPI_Comm_split", mpi.commSplit(comm, color, key, ptr));
            } finally {
                end();
            }
            handle = ptr.get(ADDRESS, 0);
        }
        check("split", "MPI_Comm_set_errhandler", mpi.setErrorsReturn(handle));
        MpiCommunicator child = new MpiCommunicator(mpi, handle, false, childWorldRanks, timeout);
        if (child.rank != rankAmong(members) || child.size != members.length) {
            throw new IllegalStateException("MPI_Comm_split ordered the group differently than expected: rank "
                    + child.rank + " of " + child.size + ", expected " + rankAmong(members) + " of " + members.length);
        }
        return child;
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    private void check(String fn, int rc) {
        check("init", fn, rc);
    }

    /** Throws a {@link CommException} naming {@code fn}, MPI's error text and any exited peer unless {@code rc} is success. */
    void check(String collective, String fn, int rc) {
        if (rc != Mpi.SUCCESS) {
            List<String> gone = watch.exitedPeers();
            throw new CommException(collective, rank, "colo4j comm: " + fn + " failed in " + collective + " on " + where()
                    + ": " + mpi.errorString(rc) + " (MPI error " + rc + ")" + (gone.isEmpty() ? "" : "; " + MpiPeerWatch.exitedText(gone)));
        }
    }

    private void begin(String op) {
        watch.dataBegins(op);
    }

    private void end() {
        watch.dataEnds();
    }
}

package io.colo4j.tensor.comm;

import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * A group of ranks that run collectives together, as an MPI communicator or a torch.distributed process
 * group. Two backends: {@link ThreadCommunicator} (ranks are threads of one JVM, see {@link ThreadWorld})
 * and {@link MpiCommunicator} (ranks are processes started by {@code mpirun}); {@link Communicators#world()}
 * picks one.
 *
 * <p><b>Contract.</b> Every rank of the group must call the same collectives in the same order with
 * matching inputs. Inputs are exchanged and checked before any data moves: when shapes, arguments or the
 * collective itself differ across ranks, or a dim is not divisible by {@link #size()}, every rank throws a
 * {@link CommMismatchException} naming the collective, its rank and all ranks' shapes, and the communicator
 * stays usable. Results are bitwise identical on every rank: sums are taken in rank order
 * ({@code ((x0 + x1) + x2) + ...}) by the thread backend, and each element is reduced in one place and then
 * copied by the MPI backend. Tensors may be non-contiguous (they are copied around the call); outputs are
 * fresh contiguous tensors allocated in the caller's {@link io.colo4j.tensor.MemoryScope}. Collectives are
 * not recorded by autograd. A communicator is not thread-safe: one collective at a time per instance.
 *
 * <p><b>Failures.</b> A collective that cannot complete never hangs silently: after {@link #timeout()}
 * (default 5 minutes, system property {@code colo4j.comm.timeout} in seconds) it throws a
 * {@link CommTimeoutException} naming the ranks that never arrived; in a {@link ThreadWorld} a rank that
 * throws or returns makes the others' pending collectives fail at once with a {@link CommAbortedException}
 * naming it. See {@link MpiCommunicator} for what happens under MPI.
 */
public interface Communicator extends AutoCloseable {

    /** This rank, {@code 0 <= rank() < size()}. */
    int rank();

    /** Number of ranks in the group. */
    int size();

    /** {@code "thread"} or {@code "mpi"}. */
    String backend();

    /** How long a collective waits for the other ranks before failing. */
    Duration timeout();

    /** Sums {@code t} over all ranks, in place. */
    void allReduce(Tensor t);

    /** A new tensor: every rank's {@code local} concatenated along {@code dim} in rank order. */
    Tensor allGather(Tensor local, int dim);

    /**
     * This rank's slice of the sum over ranks of {@code full}: the sum split into {@link #size()} equal parts
     * along {@code dim} (which must divide evenly), part {@link #rank()}.
     */
    Tensor reduceScatter(Tensor full, int dim);

    /** Overwrites {@code t} on every rank with {@code root}'s {@code t}. */
    void broadcast(Tensor t, int root);

    /**
     * Splits {@code local} into {@link #size()} equal parts along {@code splitDim}, sends part j to rank j,
     * and returns the parts received, concatenated along {@code concatDim} in source-rank order.
     */
    Tensor allToAll(Tensor local, int splitDim, int concatDim);

    /** Returns once every rank of the group has called it. */
    void barrier();

    /**
     * A sub-communicator per distinct {@code color} (>= 0), as MPI_Comm_split: ranks with the same color form
     * a group, ordered by {@code key} then by rank here. Collective over this communicator. For a
     * {@code dp x tp} mesh with Megatron's {@code rank = dpRank * tp + tpRank}:
     * {@code tpGroup = split(dpRank, tpRank)}, {@code dpGroup = split(tpRank, dpRank)}.
     */
    Communicator split(int color, int key);

    // ---- flat variants over raw float buffers (native segments, at most Integer.MAX_VALUE floats) ------------

    /** Sums the floats of {@code floats} over all ranks, in place. */
    void allReduce(MemorySegment floats);

    /** Writes every rank's {@code local} floats, in rank order, into {@code out} ({@code size()} times as long). */
    void allGather(MemorySegment local, MemorySegment out);

    /** Writes part {@code rank()} of the rank-summed {@code full} floats into {@code out} (1/size() as long). */
    void reduceScatter(MemorySegment full, MemorySegment out);

    /** Overwrites {@code floats} on every rank with {@code root}'s. */
    void broadcast(MemorySegment floats, int root);

    /**
     * Releases this communicator. For a thread world's rank it also tells the others that this rank will
     * join no further collectives; for the MPI world it finalizes MPI.
     */
    @Override
    void close();
}

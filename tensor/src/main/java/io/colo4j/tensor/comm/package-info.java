/**
 * Communicators: the collectives tensor parallelism needs (all-reduce, all-gather, reduce-scatter, broadcast,
 * all-to-all, barrier, split into sub-groups), over two backends with one interface, {@link
 * io.colo4j.tensor.comm.Communicator}.
 *
 * <ul>
 *   <li>{@link io.colo4j.tensor.comm.ThreadCommunicator}: ranks are threads of one JVM, started by {@link
 *       io.colo4j.tensor.comm.ThreadWorld}; collectives read each other's off-heap buffers directly.</li>
 *   <li>{@link io.colo4j.tensor.comm.MpiCommunicator}: ranks are processes of an {@code mpirun} job; Open MPI
 *       (libmpi.so.40) is called through java.lang.foreign on the tensors' own memory.</li>
 * </ul>
 *
 * {@link io.colo4j.tensor.comm.Communicators#world()} picks MPI when the process runs under mpirun and a
 * 1-rank in-JVM world otherwise; {@link io.colo4j.tensor.comm.Communicators#launch} runs a body on every rank
 * of either. {@link io.colo4j.tensor.comm.CommBench} measures bus bandwidth.
 *
 * <p>Every collective first exchanges what each rank is calling (collective, shape, arguments): mismatches
 * throw {@link io.colo4j.tensor.comm.CommMismatchException} on every rank; a rank that fails or never arrives
 * makes the others throw ({@link io.colo4j.tensor.comm.CommAbortedException}, {@link
 * io.colo4j.tensor.comm.CommTimeoutException}) instead of hanging. Timeout: system property
 * {@code colo4j.comm.timeout} (seconds, default 300).
 */
package io.colo4j.tensor.comm;

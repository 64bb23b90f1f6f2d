package io.colo4j.tensor.comm;

/** What one rank runs, given its communicator, returning a per-rank result. */
@FunctionalInterface
public interface RankFunction<T> {
    T call(Communicator comm) throws Exception;
}

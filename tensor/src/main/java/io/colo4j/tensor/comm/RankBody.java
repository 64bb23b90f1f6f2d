package io.colo4j.tensor.comm;

/** What one rank runs, given its communicator. */
@FunctionalInterface
public interface RankBody {
    void run(Communicator comm) throws Exception;
}

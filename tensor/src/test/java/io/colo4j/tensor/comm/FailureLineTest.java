package io.colo4j.tensor.comm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/** A rank's failure reads "rank R of N: message": no class names for the checks' exceptions, the class and a hint for a bug. */
class FailureLineTest {
    @Test
    void aRanksCheckedFailureIsItsMessageAfterTheRank() {
        RankFailedException e = new RankFailedException(1, 2, new IllegalArgumentException("/x/config.json: n_layer is 0"));
        assertThat(FailureLine.of(e)).isEqualTo("rank 1 of 2: /x/config.json: n_layer is 0");
    }

    @Test
    void wrappersThatOnlyRepeatTheirCauseAreSkipped() {
        RankFailedException e = new RankFailedException(0, 1, new UncheckedIOException(new IOException("/x/model.safetensors: hole")));
        assertThat(FailureLine.of(e)).isEqualTo("rank 0 of 1: /x/model.safetensors: hole");
        assertThat(FailureLine.of(new RuntimeException(new IllegalStateException("latest names junk")))).isEqualTo("latest names junk");
    }

    @Test
    void aBugKeepsItsClassAndPointsAtTheTrace() {
        RankFailedException e = new RankFailedException(1, 2, new NullPointerException("x is null"));
        assertThat(FailureLine.of(e)).isEqualTo("rank 1 of 2: java.lang.NullPointerException: x is null"
                + " (a bug; rerun with COLO4J_JAVA_OPTS=-Dcolo4j.trace=true for the trace)");
        assertThat(FailureLine.isBug(new StackOverflowError())).isTrue();
        assertThat(FailureLine.isBug(new OutOfMemoryError())).isFalse();
    }

    @Test
    void aThreadWorldFailureReadsAsOneLine() {
        assertThatThrownBy(() -> ThreadWorld.run(2, comm -> {
            if (comm.rank() == 1) {
                throw new IllegalStateException("boom on rank 1");
            }
            comm.barrier();
        })).satisfies(e -> assertThat(FailureLine.of(e)).isEqualTo("rank 1 of 2: boom on rank 1"));
    }

    @Test
    void anEmptyMessageFallsBackToTheClass() {
        assertThat(FailureLine.of(new IllegalStateException())).isEqualTo("java.lang.IllegalStateException");
    }
}

package io.colo4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Picocli sets a negated option to its default unless a fallback is given: --no-anchor must mean false. */
class BenchOptionsTest {
    @Test
    void noAnchorTurnsTheAnchorOff() {
        BenchCommand.Train train = new BenchCommand.Train();
        new CommandLine(train).parseArgs("--no-anchor");
        assertThat(train.anchor).isFalse();
        BenchCommand.Gemm gemm = new BenchCommand.Gemm();
        new CommandLine(gemm).parseArgs();
        assertThat(gemm.anchor).isTrue();
        new CommandLine(gemm).parseArgs("--no-anchor");
        assertThat(gemm.anchor).isFalse();
    }
}

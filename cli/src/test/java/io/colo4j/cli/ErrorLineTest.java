package io.colo4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.comm.RankFailedException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The CLI's error is one line: "rank R of N: message" for a rank's refusal, no Java class names, no trace. */
class ErrorLineTest {
    @Command(name = "refuse")
    static final class Refuse implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new RankFailedException(1, 2, new IllegalArgumentException("/x/config.json: n_embd must be positive"));
        }
    }

    @Command(name = "crash")
    static final class Crash implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new RankFailedException(0, 1, new NullPointerException("boom"));
        }
    }

    private static String run(Object command, String name) {
        CommandLine cli = Colo4jCommand.commandLine();
        cli.addSubcommand(command);
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertThat(cli.execute(name)).isEqualTo(1);
        return err.toString();
    }

    @Test
    void aRanksRefusalNamesTheRankAndNoClass() {
        assertThat(run(new Refuse(), "refuse")).isEqualTo("colo4j refuse: rank 1 of 2: /x/config.json: n_embd must be positive"
                + System.lineSeparator());
    }

    @Test
    void aBugKeepsItsClassOnOneLineWithTheTraceHint() {
        assertThat(run(new Crash(), "crash")).hasLineCount(1).startsWith("colo4j crash: rank 0 of 1: java.lang.NullPointerException: boom")
                .contains("-Dcolo4j.trace=true").doesNotContain("\tat ");
    }
}

package io.colo4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** An OutOfMemoryError, also one a rank's failure wraps, reaches the user as one line with the figure and a hint. */
class OutOfMemoryTest {
    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalStateException("rank 1 of 2 failed", new OutOfMemoryError("Java heap space"));
        }
    }

    @Test
    void aWrappedOutOfMemoryErrorIsOneLine() {
        CommandLine cli = Colo4jCommand.commandLine();
        cli.addSubcommand(new Boom());
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertThat(cli.execute("boom")).isEqualTo(1);
        assertThat(err.toString()).startsWith("colo4j boom: out of memory (Java heap space): the JVM's heap is at most ")
                .contains("raise it (COLO4J_JAVA_OPTS=-Xmx...)").hasLineCount(1);
    }

    @Test
    void offHeapExhaustionPointsAtPhysicalMemory() {
        assertThat(OutOfMemory.describe(new OutOfMemoryError("Unable to allocate 4294967296 bytes")))
                .startsWith("out of memory (Unable to allocate 4294967296 bytes): tensors live off-heap and this machine has ")
                .contains("of physical memory; use a smaller --config, --batch or --seq, or more --tp");
    }
}

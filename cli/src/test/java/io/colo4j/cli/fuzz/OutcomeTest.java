package io.colo4j.cli.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The classifier: each failure the harness exists to find is told apart from a clean refusal. */
class OutcomeTest {
    private static final HostileInput.Invocation INPUT = HostileInput.Invocation.of("/x/model.safetensors", "eval");

    private static Outcome of(Expect expect, int exit, String err, Throwable thrown) {
        return Outcome.of(expect, new Outcome.Run(exit, "", err, thrown, false), INPUT);
    }

    @Test
    void aRefusalNamingTheFileIsClean() {
        assertThat(of(Expect.INVALID, 1, "colo4j eval: /x/model.safetensors: trailing bytes\n", new IOException("x"))).isEqualTo(Outcome.REFUSED);
        assertThat(of(Expect.EITHER, 1, "a warning\ncolo4j eval: /x/model.safetensors: hole\n", null)).isEqualTo(Outcome.REFUSED);
    }

    @Test
    void eachFailureIsNamed() {
        assertThat(Outcome.of(Expect.EITHER, new Outcome.Run(-1, "", "", null, true), INPUT)).isEqualTo(Outcome.HANG);
        assertThat(of(Expect.INVALID, 1, "colo4j eval: out of memory (Java heap space): ...", new UncheckedIOException(
                new IOException(new OutOfMemoryError("Java heap space"))))).isEqualTo(Outcome.OOM);
        assertThat(of(Expect.INVALID, -1, "", new OutOfMemoryError("Direct buffer memory"))).isEqualTo(Outcome.OOM);
        assertThat(of(Expect.INVALID, 1, "colo4j eval: /x/model.safetensors: null", new NullPointerException())).isEqualTo(Outcome.TRACE);
        assertThat(of(Expect.INVALID, 1, "colo4j eval: Index 9 out of bounds for length 3",
                new RuntimeException(new ArrayIndexOutOfBoundsException()))).isEqualTo(Outcome.TRACE);
        assertThat(of(Expect.INVALID, -1, "", new StackOverflowError())).isEqualTo(Outcome.TRACE);
        assertThat(of(Expect.INVALID, 1, "java.io.IOException: /x/model.safetensors\n\tat io.colo4j.Foo.bar(Foo.java:1)\n", null))
                .isEqualTo(Outcome.TRACE);
        assertThat(of(Expect.INVALID, 0, "", null)).isEqualTo(Outcome.SILENT);
        assertThat(of(Expect.EITHER, 0, "", null)).isEqualTo(Outcome.ACCEPTED);
        assertThat(of(Expect.VALID, 1, "colo4j eval: /x/model.safetensors: hole", null)).isEqualTo(Outcome.REFUSED_VALID);
        assertThat(of(Expect.INVALID, 1, "colo4j eval: Input length = 3", new IOException())).isEqualTo(Outcome.UNNAMED);
    }

    @Test
    void aUsageErrorIsReadFromItsFirstLine() {
        HostileInput.Invocation lr = HostileInput.Invocation.of("--lr", "train");
        Outcome.Run usage = new Outcome.Run(2, "", "Invalid value for option '--lr': 'x' is not a double\nUsage: colo4j train ...\n  --lr\n",
                null, false);
        assertThat(Outcome.of(Expect.INVALID, usage, lr)).isEqualTo(Outcome.REFUSED);
        assertThat(usage.message()).startsWith("Invalid value");
        assertThat(Outcome.values()).filteredOn(o -> !o.failure()).containsExactly(Outcome.REFUSED, Outcome.ACCEPTED);
        assertThat(List.of(Outcome.values())).hasSize(8);
    }
}

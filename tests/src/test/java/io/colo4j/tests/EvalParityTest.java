package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.cli.Colo4jCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * `colo4j eval` on model folders written by the PyTorch reference script (both key styles) prints the
 * reference loss at tp = 1, 2 and 4: each rank reads only its shard from the memory-mapped file.
 */
class EvalParityTest {
    private static final Path FIXTURES = Path.of("..", "model-zoo", "src", "test", "resources", "gpt2-ref");

    private static double referenceLoss(String style) throws Exception {
        Matcher m = Pattern.compile("step 0 loss ([0-9.]+)").matcher(Files.readString(FIXTURES.resolve("expected-" + style + ".txt")));
        assertThat(m.find()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @ParameterizedTest(name = "{0} keys at tp={1}")
    @CsvSource({"hub,1", "hub,2", "hub,4", "prefixed,1", "prefixed,2", "prefixed,4"})
    void printsTheReferenceLoss(String style, int tp) throws Exception {
        PrintStream previous = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            rc = Colo4jCommand.commandLine().execute("eval", "--model-dir", FIXTURES.resolve(style).toString(),
                    "--tokens", FIXTURES.resolve("tokens.txt").toString(), "--tp", String.valueOf(tp));
        } finally {
            System.setOut(previous);
        }
        assertThat(rc).isZero();
        String out = captured.toString(StandardCharsets.UTF_8).trim();
        assertThat(out).matches("loss [0-9.]+");
        double loss = Double.parseDouble(out.substring("loss ".length()));
        double expected = referenceLoss(style);
        assertThat(Math.abs(loss - expected) / expected).as(out).isLessThanOrEqualTo(1e-4);
    }
}

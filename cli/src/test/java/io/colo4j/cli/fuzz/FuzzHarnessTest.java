package io.colo4j.cli.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A small seeded run of each input class through the real CLI (what {@code bench fuzz --count N} runs at length):
 * every input refused naming its culprit, or accepted when it may be valid; no hang, OOM, trace or silent
 * acceptance. Each class starts with its hand-written cases (issue 18's findings), so these counts cover them.
 */
class FuzzHarnessTest {
    private static final long SEED = 18;
    private static FuzzRunner runner;

    @BeforeAll
    static void start() throws IOException {
        runner = new FuzzRunner(FuzzCampaign.TIMEOUT_MILLIS);
    }

    @AfterAll
    static void stop() {
        runner.close();
    }

    /** Feeds {@code count} inputs of {@code c}; returns the outcomes seen, failing with every failure in full. */
    private static Set<Outcome> fuzz(InputClass c, int count) throws IOException {
        List<String> failures = new ArrayList<>();
        Set<Outcome> seen = EnumSet.noneOf(Outcome.class);
        for (HostileInput input : runner.corpus(c, count, SEED)) {
            FuzzRunner.Finding f = runner.feed(input);
            seen.add(f.outcome());
            if (f.outcome().failure()) {
                failures.add(f.describe());
            }
        }
        assertThat(failures).as(String.join("\n", failures)).isEmpty();
        // valid and invalid inputs both came through: the harness ran the commands, not a no-op
        assertThat(seen).contains(Outcome.REFUSED, Outcome.ACCEPTED);
        return seen;
    }

    @Test
    void safetensors() throws IOException {
        fuzz(InputClass.SAFETENSORS, 24);
    }

    @Test
    void config() throws IOException {
        fuzz(InputClass.CONFIG, 24);
    }

    @Test
    void rules() throws IOException {
        fuzz(InputClass.RULES, 30);
    }

    @Test
    void data() throws IOException {
        fuzz(InputClass.DATA, 24);
    }

    @Test
    void options() throws IOException {
        fuzz(InputClass.OPTIONS, 44);
    }

    @Test
    void half() throws IOException {
        fuzz(InputClass.HALF, 24);
    }

    @Test
    void checkpoint() throws IOException {
        fuzz(InputClass.CHECKPOINT, 34);
    }

    @Test
    void finiteWeightsThatOverflowTheForwardPassAreNotALossOfNaN() throws IOException {
        HostileInput huge = runner.corpus(InputClass.HALF, 11, SEED).get(10);
        assertThat(huge.label()).isEqualTo("BF16 largest finite");
        FuzzRunner.Finding f = runner.feed(huge);
        assertThat(f.run().exit()).as(f.describe()).isEqualTo(1);
        assertThat(f.run().message()).as(f.describe()).contains("is NaN though every weight is finite: the forward pass overflowed float32");
    }

    @Test
    void theSameSeedGivesTheSameInputs() {
        List<String> a = runner.corpus(InputClass.CONFIG, 80, 7).stream().map(HostileInput::label).toList();
        List<String> b = runner.corpus(InputClass.CONFIG, 80, 7).stream().map(HostileInput::label).toList();
        assertThat(a).isEqualTo(b).hasSize(80);
    }

    @Test
    void aRunPastTheTimeoutIsAHang() throws IOException {
        try (FuzzRunner impatient = new FuzzRunner(1)) {
            HostileInput valid = impatient.corpus(InputClass.SAFETENSORS, 1, SEED).get(0);
            assertThat(impatient.feed(valid).outcome()).isEqualTo(Outcome.HANG);
        }
    }
}

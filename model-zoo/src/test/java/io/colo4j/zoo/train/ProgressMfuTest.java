package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The train progress line prints MFU next to tokens/s when the trainer is given the model's FLOPs and the peak. */
class ProgressMfuTest {
    private static String lines(Mfu mfu, boolean terminal) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal, 4, 0, 1, 1000);
        p.showMfu(mfu);
        p.update(1, 2.5f, 1e-3, 0.5);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void mfuStandsNextToTokensPerSecond() {
        Mfu mfu = new Mfu(6e9, 100, 2);
        assertThat(lines(mfu, false)).containsPattern("tok/s [0-9]+ mfu [0-9]+\\.[0-9]{3} elapsed");
        assertThat(lines(mfu, true)).containsPattern("[0-9]+ tok/s \\| MFU [0-9]+\\.[0-9]{3} \\| ETA");
        assertThat(lines(null, false)).doesNotContain("mfu");
        assertThat(lines(null, true)).doesNotContain("MFU");
    }

    @Test
    void mfuIsModelFlopsPerSecondOverThePeak() {
        Mfu mfu = new Mfu(6e9, 100, 2);
        assertThat(mfu.at(10)).isEqualTo(0.6, org.assertj.core.data.Offset.offset(1e-12));
        assertThatThrownBy(() -> new Mfu(6e9, 0, 2)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("peak");
    }
}

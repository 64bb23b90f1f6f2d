package io.colo4j.zoo.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.zoo.ModelZoo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** config.json as a hostile user writes it: each is refused in one line naming the file and the field. */
class HostileConfigTest {
    private static final HfFamilyOps GPT2 = ModelZoo.family("gpt2").requireHf();

    @TempDir
    Path dir;

    private Path config(String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        return dir.resolve("config.json");
    }

    private static String tiny(String extra) {
        return "{\"model_type\": \"gpt2\", \"n_layer\": 1, \"n_embd\": 8, \"n_head\": 2, \"vocab_size\": 16, \"n_positions\": 8"
                + extra + "}";
    }

    @Test
    void aValidConfigReads() throws IOException {
        config(tiny(", \"n_inner\": 32, \"layer_norm_epsilon\": 1e-5"));
        assertThat(GPT2.readConfig(dir).vocabSize()).isEqualTo(16);
    }

    @Test
    void refusesTrailingGarbageAndASecondObject() throws IOException {
        Path f = config(tiny("") + " garbage");
        assertThatThrownBy(() -> GPT2.readConfig(dir)).isInstanceOf(IOException.class)
                .hasMessageStartingWith(f + ": not valid JSON").hasMessageContaining("garbage");
        config(tiny("") + "\n" + tiny(""));
        assertThatThrownBy(() -> GPT2.readConfig(dir)).hasMessageStartingWith(f + ": not valid JSON")
                .hasMessageContaining("Trailing token");
    }

    @Test
    void refusesNumbersFloat32CannotHoldAndTextForInts() throws IOException {
        Path f = config(tiny(", \"layer_norm_epsilon\": 1e300"));
        assertThatThrownBy(() -> GPT2.readConfig(dir)).hasMessage(f + ": layer_norm_epsilon 1.0E300 is not a finite float32");
        config(tiny(", \"n_inner\": \"32\""));
        assertThatThrownBy(() -> GPT2.readConfig(dir)).hasMessage(f + ": n_inner '32' is not supported (only 4 * n_embd)");
    }

    @Test
    void refusesNonUtf8NamingTheByteOffset() throws IOException {
        Path f = dir.resolve("config.json");
        byte[] json = tiny(", \"architectures\": [\"\u00e9\"]").getBytes(StandardCharsets.ISO_8859_1);
        Files.write(f, json);
        int at = new String(json, StandardCharsets.ISO_8859_1).indexOf('\u00e9');
        assertThatThrownBy(() -> GPT2.readConfig(dir)).hasMessage(f + ": the config is not UTF-8 text: byte e9 at offset " + at
                + " is not valid UTF-8");
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void refusesAFifoAtOnce() throws Exception {
        Path fifo = dir.resolve("config.json");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        // opening a FIFO for reading blocks until a writer comes: the check must come first
        assertThatThrownBy(() -> GPT2.readConfig(dir)).hasMessage(fifo + ": the config is a FIFO, socket or device, not a regular file"
                + " (refused: reading it could block forever)");
    }
}

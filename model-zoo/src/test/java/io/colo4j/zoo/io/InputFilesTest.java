package io.colo4j.zoo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.zoo.tokenizer.ByteTokenizer;
import io.colo4j.zoo.train.Evaluation;
import io.colo4j.zoo.train.TokenData;
import io.colo4j.zoo.train.Trainer;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Data, token and latest files as a hostile user gives them: refused at once, naming the file (and byte offset). */
class InputFilesTest {
    private static final String FIFO = "is a FIFO, socket or device, not a regular file (refused: reading it could block forever)";

    @TempDir
    Path dir;

    @Test
    void nonUtf8IsNamedWithTheFileAndTheByteOffset() throws Exception {
        Path data = dir.resolve("data.txt");
        Files.write(data, new byte[] {'a', 'b', (byte) 0xC3, '(', 'c'}); // a lead byte without its continuation
        assertThatThrownBy(() -> TokenData.fromFile(data, ByteTokenizer.INSTANCE))
                .hasMessage(data + ": the data file is not UTF-8 text: byte c3 at offset 2 is not valid UTF-8");
        Path tokens = dir.resolve("tokens.txt");
        Files.write(tokens, new byte[] {'1', ' ', '2', '\n', (byte) 0xE2, (byte) 0x82});
        assertThatThrownBy(() -> Evaluation.readTokenLines(tokens))
                .hasMessage(tokens + ": the tokens file is not UTF-8 text: byte e2 82 at offset 4 is not valid UTF-8");
        Path latest = dir.resolve("latest");
        Files.write(latest, new byte[] {'c', (byte) 0xFF});
        assertThatThrownBy(() -> Trainer.resolveCheckpoint(dir))
                .hasMessage(latest + ": the latest file is not UTF-8 text: byte ff at offset 1 is not valid UTF-8");
    }

    @Test
    // a guard against the old hang, not a speed target
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void fifosAndFoldersAreRefusedBeforeTheyAreOpened() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        assertThatThrownBy(() -> TokenData.fromFile(fifo, ByteTokenizer.INSTANCE)).hasMessage(fifo + ": the data file " + FIFO);
        assertThatThrownBy(() -> Evaluation.readTokenLines(fifo)).hasMessage(fifo + ": the tokens file " + FIFO);
        assertThatThrownBy(() -> SafeTensorsReader.open(fifo)).hasMessage(fifo + ": the safetensors file " + FIFO);
        assertThatThrownBy(() -> TokenData.fromFile(dir, ByteTokenizer.INSTANCE))
                .hasMessageStartingWith(dir + ": the data file is a directory, not a regular file");
    }

    @Test
    void aFileLargerThanAnArrayIsRefusedBeforeItIsRead() throws Exception {
        Path big = dir.resolve("big.json");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: no disk, but 3 GiB to anyone who reads it
        }
        // a data file is streamed into a token cache instead (TokenCacheTest); a config or tokenizer file is read whole
        assertThatThrownBy(() -> InputFiles.readUtf8(big, "tokenizer file"))
                .hasMessage(big + ": the tokenizer file is 3.0 GiB (3,221,225,472 bytes); a file is read into one array, at most "
                        + "2.0 GiB (2,147,483,639 bytes) (split it)");
    }
}

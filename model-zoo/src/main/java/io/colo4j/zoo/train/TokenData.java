package io.colo4j.zoo.train;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Init;
import io.colo4j.zoo.io.InputFiles;
import io.colo4j.zoo.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * A token stream (a text tokenized once) and the deterministic batches drawn from it: batch {@code step}
 * takes {@code batch} windows of {@code seq + 1} tokens at offsets that depend only on the seed, the
 * step and the row, so any step's batch can be drawn again (resume) without replaying the ones before.
 */
public final class TokenData {
    /** Class-path resource of the bundled corpus (see data/README.md beside it). */
    public static final String BUNDLED_CORPUS = "/data/gnu-licenses.txt";

    private final int[] tokens;
    private final String source;

    public TokenData(int[] tokens, String source) {
        this.tokens = tokens.clone();
        this.source = source;
    }

    public static TokenData fromFile(Path file, Tokenizer tokenizer) throws IOException {
        String text = InputFiles.readUtf8(file, "data file");
        return new TokenData(tokenizer.encode(text), file.toAbsolutePath().toString());
    }

    /** The corpus bundled with model-zoo (about 168 KB of GNU license texts). */
    public static TokenData bundled(Tokenizer tokenizer) throws IOException {
        return new TokenData(tokenizer.encode(bundledText()), "bundled:" + BUNDLED_CORPUS);
    }

    public static String bundledText() throws IOException {
        try (InputStream in = TokenData.class.getResourceAsStream(BUNDLED_CORPUS)) {
            if (in == null) {
                throw new IOException("bundled corpus " + BUNDLED_CORPUS + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public int size() {
        return tokens.length;
    }

    public String source() {
        return source;
    }

    public int[] tokens() {
        return tokens.clone();
    }

    /** The largest id in the stream (-1 when empty). */
    public int maxId() {
        int max = -1;
        for (int t : tokens) {
            max = Math.max(max, t);
        }
        return max;
    }

    /** CRC-32 of the ids: tells whether a resumed run sees the same data. */
    public long checksum() {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[4096];
        int n = 0;
        for (int t : tokens) {
            buf[n++] = (byte) t;
            buf[n++] = (byte) (t >>> 8);
            buf[n++] = (byte) (t >>> 16);
            buf[n++] = (byte) (t >>> 24);
            if (n == buf.length) {
                crc.update(buf, 0, n);
                n = 0;
            }
        }
        crc.update(buf, 0, n);
        return crc.getValue();
    }

    /** Window starts for {@code step}: deterministic in (seed, step, row). */
    public int[] windowStarts(long seed, long step, int batch, int seq) {
        long span = (long) tokens.length - (seq + 1) + 1;
        if (span < 1) {
            throw new IllegalArgumentException("the token stream (" + tokens.length + " tokens from " + source
                    + ") is shorter than one window of seq + 1 = " + (seq + 1) + " tokens");
        }
        long dataSeed = Init.Random.seed(seed, "data");
        int[] starts = new int[batch];
        for (int b = 0; b < batch; b++) {
            double u = Init.Random.unit(dataSeed, step * batch + b);
            starts[b] = (int) Math.min(span - 1, (long) ((1.0 - u) * span));
        }
        return starts;
    }

    /** Inputs [B, T] and targets [B, T] (the inputs shifted by one) of step {@code step}'s batch. */
    public IntTensor[] batch(long seed, long step, int batch, int seq) {
        int[] starts = windowStarts(seed, step, batch, seq);
        int[] x = new int[batch * seq];
        int[] y = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(tokens, starts[b], x, b * seq, seq);
            System.arraycopy(tokens, starts[b] + 1, y, b * seq, seq);
        }
        return new IntTensor[] {IntTensor.of(x, batch, seq), IntTensor.of(y, batch, seq)};
    }
}

package io.colo4j.zoo.train;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Init;
import io.colo4j.zoo.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * A token stream (a text tokenized once) and the deterministic batches drawn from it: batch {@code step}
 * takes {@code batch} windows of {@code seq + 1} tokens at offsets that depend only on the seed, the
 * step and the row, so any step's batch can be drawn again (resume) without replaying the ones before.
 * The ids are a segment of ints: an array for a text tokenised in memory, the memory-mapped token cache
 * ({@link TokenCache}) for a data file, so a file larger than the heap trains.
 */
public final class TokenData {
    /** Class-path resource of the bundled corpus (see data/README.md beside it). */
    public static final String BUNDLED_CORPUS = "/data/gnu-licenses.txt";

    private static final ValueLayout.OfInt ID = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfInt LITTLE_ENDIAN_ID = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment tokens;
    private final long size;
    private final String source;

    public TokenData(int[] tokens, String source) {
        this(MemorySegment.ofArray(tokens.clone()), source);
    }

    /** Ids in {@code tokens} (native byte order, as {@link TokenCache} writes them). */
    TokenData(MemorySegment tokens, String source) {
        this.tokens = tokens;
        this.size = tokens.byteSize() / Integer.BYTES;
        this.source = source;
    }

    /** {@code file} tokenised in one streaming pass into a memory-mapped token cache (never the whole text on the heap). */
    public static TokenData fromFile(Path file, Tokenizer tokenizer) throws IOException {
        return new TokenData(TokenCache.tokenize(file, "data file", tokenizer), file.toAbsolutePath().toString());
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

    public long size() {
        return size;
    }

    public String source() {
        return source;
    }

    /** The ids (a stream under 2^31 ids only: a test's view). */
    public int[] tokens() {
        return tokens.toArray(ID);
    }

    /** The largest id in the stream (-1 when empty). */
    public int maxId() {
        int max = -1;
        for (long i = 0; i < size; i++) {
            max = Math.max(max, tokens.getAtIndex(ID, i));
        }
        return max;
    }

    /** CRC-32 of the ids' little-endian bytes: tells whether a resumed run sees the same data. */
    public long checksum() {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[1 << 20];
        MemorySegment bytes = MemorySegment.ofArray(buf);
        for (long i = 0; i < size; i += buf.length / Integer.BYTES) {
            long n = Math.min(buf.length / Integer.BYTES, size - i);
            MemorySegment.copy(tokens, ID, i * Integer.BYTES, bytes, LITTLE_ENDIAN_ID, 0, n);
            crc.update(buf, 0, (int) n * Integer.BYTES);
        }
        return crc.getValue();
    }

    /** Window starts for {@code step}: deterministic in (seed, step, row). */
    public long[] windowStarts(long seed, long step, int batch, int seq) {
        long span = size - (seq + 1) + 1;
        if (span < 1) {
            throw new IllegalArgumentException("the token stream (" + size + " tokens from " + source
                    + ") is shorter than one window of seq + 1 = " + (seq + 1) + " tokens");
        }
        long dataSeed = Init.Random.seed(seed, "data");
        long[] starts = new long[batch];
        for (int b = 0; b < batch; b++) {
            double u = Init.Random.unit(dataSeed, step * batch + b);
            starts[b] = Math.min(span - 1, (long) ((1.0 - u) * span));
        }
        return starts;
    }

    /** Inputs [B, T] and targets [B, T] (the inputs shifted by one) of step {@code step}'s batch. */
    public IntTensor[] batch(long seed, long step, int batch, int seq) {
        long[] starts = windowStarts(seed, step, batch, seq);
        int[] x = new int[batch * seq];
        int[] y = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(tokens, ID, starts[b] * Integer.BYTES, x, b * seq, seq);
            MemorySegment.copy(tokens, ID, (starts[b] + 1) * Integer.BYTES, y, b * seq, seq);
        }
        return new IntTensor[] {IntTensor.of(x, batch, seq), IntTensor.of(y, batch, seq)};
    }
}

package io.colo4j.zoo.train;

import io.colo4j.zoo.io.InputFiles;
import io.colo4j.zoo.memory.ByteSize;
import io.colo4j.zoo.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A text file tokenised in one streaming pass into a memory-mapped file of int ids, so a data file larger than
 * the heap trains: the text is read in pieces, cut where the tokenizer says the ids do not depend on the cut
 * ({@link Tokenizer#streamingCut}), so the ids are bit for bit those of the whole text encoded at once. The cache
 * file is unlinked as soon as it is open (the mapping keeps its pages), so no run, killed or not, leaves it behind;
 * before it is written, the disk under it must hold the worst case (one id, 4 bytes, per byte of text).
 */
public final class TokenCache {
    /** The folder of the token cache: {@code -Dcolo4j.token.cache=DIR}, else the JVM's temp folder. */
    public static final String DIR_PROPERTY = "colo4j.token.cache";
    /** Characters tokenised per encode call. */
    static final int PIECE_CHARS = 1 << 22;

    private TokenCache() {}

    static MemorySegment tokenize(Path file, String what, Tokenizer tokenizer) throws IOException {
        // a text with no place to cut is held whole: refused while it still fits a sixteenth of the heap
        long maxPending = Math.max(4L * PIECE_CHARS, Math.min(1L << 26, Runtime.getRuntime().maxMemory() / 16));
        return tokenize(file, what, tokenizer, PIECE_CHARS, maxPending, folder());
    }

    public static Path folder() {
        return Path.of(System.getProperty(DIR_PROPERTY, System.getProperty("java.io.tmpdir")));
    }

    /**
     * {@code file}'s ids, tokenised {@code pieceChars} characters at a time (tests cut small) into a cache in {@code folder};
     * a text with no place to cut in {@code maxPending} characters is refused.
     */
    static MemorySegment tokenize(Path file, String what, Tokenizer tokenizer, int pieceChars, long maxPending, Path folder)
            throws IOException {
        InputFiles.requireRegular(file, what);
        long wanted = Math.multiplyExact(Files.size(file), (long) Integer.BYTES);
        long free = Files.getFileStore(folder).getUsableSpace();
        if (wanted > free) {
            throw new IOException(file + ": the " + what + " is " + ByteSize.of(Files.size(file)) + "; its token ids take up to "
                    + ByteSize.of(wanted) + " (4 bytes per byte of text) in the token cache folder " + folder + ", which has "
                    + ByteSize.of(free) + " free (point -D" + DIR_PROPERTY + "=DIR, in COLO4J_JAVA_OPTS, at a larger disk)");
        }
        Path cache = Files.createTempFile(folder, "colo4j-tokens-", ".ids");
        try (FileChannel channel = FileChannel.open(cache, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            unlink(cache);
            Writer writer = new Writer(file, what, tokenizer, pieceChars, maxPending, channel);
            InputFiles.streamUtf8(file, what, pieceChars, writer::append);
            writer.finish();
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), Arena.ofAuto());
        } finally {
            Files.deleteIfExists(cache);
        }
    }

    /** Removes the cache's name at once (Linux keeps an open, mapped file's pages); elsewhere when the JVM ends. */
    private static void unlink(Path cache) {
        try {
            Files.delete(cache);
        } catch (IOException e) {
            cache.toFile().deleteOnExit();
        }
    }

    /** The text read so far but not yet tokenised, and the ids written. */
    private static final class Writer {
        private final Path file;
        private final String what;
        private final Tokenizer tokenizer;
        private final int pieceChars;
        private final long maxPending;
        private final FileChannel channel;
        private final StringBuilder pending = new StringBuilder();
        private final ByteBuffer out = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
        private long pendingFrom; // the character offset in the text of pending's first character
        private long tryAt; // pending's length at which to look for a cut again

        Writer(Path file, String what, Tokenizer tokenizer, int pieceChars, long maxPending, FileChannel channel) {
            this.file = file;
            this.what = what;
            this.tokenizer = tokenizer;
            this.pieceChars = pieceChars;
            this.maxPending = maxPending;
            this.channel = channel;
            this.tryAt = pieceChars;
        }

        void append(CharSequence text) throws IOException {
            pending.append(text);
            while (pending.length() >= tryAt) {
                int cut = tokenizer.streamingCut(pending);
                if (cut == 0) {
                    if (pending.length() > maxPending) {
                        throw new IOException(file + ": the " + what + " has no place the " + tokenizer.spec() + " tokenizer can cut"
                                + " in " + pending.length() + " characters from character " + pendingFrom
                                + " (it cuts between words), so it cannot be tokenised in pieces");
                    }
                    tryAt = 2L * pending.length(); // read on: look again when twice as much is here
                    return;
                }
                write(tokenizer.encode(pending.substring(0, cut)));
                pending.delete(0, cut);
                pendingFrom += cut;
                tryAt = pieceChars;
            }
        }

        void finish() throws IOException {
            write(tokenizer.encode(pending.toString()));
            pending.setLength(0);
            flush();
        }

        private void write(int[] ids) throws IOException {
            for (int id : ids) {
                if (out.remaining() < Integer.BYTES) {
                    flush();
                }
                out.putInt(id);
            }
        }

        private void flush() throws IOException {
            out.flip();
            while (out.hasRemaining()) {
                channel.write(out);
            }
            out.clear();
        }
    }
}

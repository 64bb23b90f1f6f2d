package io.colo4j.zoo.io;

import io.colo4j.zoo.memory.ByteSize;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The checks every file a user names goes through before it is read: it must be a regular file (opening a
 * FIFO blocks until someone writes to it, a device may never end), small enough for the one array it is
 * read into, and text must be UTF-8, refused naming the file and the byte offset of the first bad byte
 * (the JDK's own message is only {@code Input length = 1}); a file too large for the heap is refused before it is read.
 */
public final class InputFiles {
    /** The longest Java array (a few bytes under 2^31 - 1, as the JDK's own limit). */
    public static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    private InputFiles() {}

    /** Refuses {@code file} unless it is a regular file (symbolic links followed); {@code what} names its role. */
    public static void requireRegular(Path file, String what) throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, what + " does not exist");
        }
        if (!attributes.isRegularFile()) {
            String kind = attributes.isDirectory() ? "a directory" : attributes.isSymbolicLink() ? "a symbolic link"
                    : "a FIFO, socket or device";
            throw new IOException(file + ": the " + what + " is " + kind + ", not a regular file (refused: reading it could block forever)");
        }
    }

    /** The whole of regular file {@code file} as UTF-8 text; too large or not UTF-8 is an IOException naming it. */
    public static String readUtf8(Path file, String what) throws IOException {
        requireRegular(file, what);
        long size = Files.size(file);
        if (size > MAX_ARRAY_BYTES) {
            throw new IOException(file + ": the " + what + " is " + ByteSize.of(size) + "; a file is read into one array, at most "
                    + ByteSize.of(MAX_ARRAY_BYTES) + " (split it)");
        }
        Runtime jvm = Runtime.getRuntime();
        long free = jvm.maxMemory() - (jvm.totalMemory() - jvm.freeMemory());
        if (2 * size > free) { // its bytes, then the decoded text: at least as many again
            throw new IOException(file + ": the " + what + " is " + ByteSize.of(size) + "; reading it takes at least twice that"
                    + " of heap (its bytes and the text) and the JVM has " + ByteSize.of(free) + " free of its -Xmx "
                    + ByteSize.of(jvm.maxMemory()) + " (raise it with COLO4J_JAVA_OPTS=-Xmx..., or split the file)");
        }
        return decodeUtf8(Files.readAllBytes(file), file, 0, what);
    }

    /**
     * {@code bytes} as UTF-8 text, strictly (no replacement characters); {@code base} is where they start in
     * {@code file}, so the message gives the bad byte's offset in the file.
     */
    public static String decodeUtf8(byte[] bytes, Path file, long base, String what) throws NotUtf8Exception {
        CharsetDecoder decoder = strictUtf8();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isUnderflow()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw notUtf8(file, what, base, in, result);
        }
        return out.flip().toString();
    }

    /** A UTF-8 decoder that reports a bad byte instead of replacing it. */
    private static CharsetDecoder strictUtf8() {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** What the streaming UTF-8 read hands its text to, piece by piece. */
    @FunctionalInterface
    public interface TextSink {
        void accept(CharSequence text) throws IOException;
    }

    /**
     * Regular file {@code file} decoded strictly as UTF-8 in pieces of at most {@code chunkBytes} bytes, each handed
     * to {@code sink} in order (a piece never ends inside a character): a file of any size, in bounded heap.
     */
    public static void streamUtf8(Path file, String what, int chunkBytes, TextSink sink) throws IOException {
        requireRegular(file, what);
        CharsetDecoder decoder = strictUtf8();
        ByteBuffer in = ByteBuffer.allocate(chunkBytes);
        CharBuffer out = CharBuffer.allocate(chunkBytes); // one char at most per byte: a piece always fits
        long base = 0; // the file offset of in's first byte
        try (ReadableByteChannel channel = Files.newByteChannel(file)) {
            boolean end = false;
            while (!end) {
                end = channel.read(in) < 0;
                in.flip();
                CoderResult result = decoder.decode(in, out, end);
                if (end && result.isUnderflow()) {
                    result = decoder.flush(out);
                }
                if (result.isError()) {
                    throw notUtf8(file, what, base, in, result);
                }
                out.flip();
                sink.accept(out);
                out.clear();
                base += in.position();
                in.compact();
            }
        }
    }

    /** The error for {@code in}'s bytes at its position that {@code result} says are not UTF-8; {@code base}: in's offset in the file. */
    private static NotUtf8Exception notUtf8(Path file, String what, long base, ByteBuffer in, CoderResult result) {
        int at = in.position();
        StringBuilder hex = new StringBuilder();
        for (int i = at; i < Math.min(in.limit(), at + result.length()); i++) {
            hex.append(String.format(" %02x", in.get(i) & 0xFF));
        }
        return new NotUtf8Exception(file, "the " + what + " is not UTF-8 text: byte" + hex + " at offset " + (base + at)
                + " is not valid UTF-8");
    }

    /** Text that is not UTF-8; {@link #problem()} is the message without the file. */
    public static final class NotUtf8Exception extends IOException {
        private final String problem;

        NotUtf8Exception(Path file, String problem) {
            super(file + ": " + problem);
            this.problem = problem;
        }

        public String problem() {
            return problem;
        }
    }
}

package io.colo4j.zoo.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Crash-safe file replacement: write a temporary file in the target's directory, fsync it, rename it
 * over the target in one atomic step, fsync the directory. A crash at any point leaves either the old
 * file or the complete new one under the final name, never a truncated one.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes one file's content through a channel. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }

    public static void write(Path target, ChannelWriter body) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: keep the default permissions
            }
            move(tmp, target);
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    public static void writeBytes(Path target, byte[] content) throws IOException {
        write(target, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    public static void writeString(Path target, String content) throws IOException {
        writeBytes(target, content.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Publishes a fully written directory under {@code target}: fsyncs every file in it, then renames
     * it into place. An existing {@code target} is first moved aside and deleted only after the rename.
     */
    public static void publishDirectory(Path staged, Path target) throws IOException {
        syncTree(staged);
        Path parent = target.toAbsolutePath().getParent();
        Path aside = null;
        if (Files.exists(target)) {
            aside = parent.resolve("." + target.getFileName() + ".old-" + System.nanoTime());
            move(target, aside);
        }
        move(staged, target);
        syncDirectory(parent);
        if (aside != null) {
            deleteRecursively(aside);
        }
    }

    /** Makes a written folder durable: fsyncs every file in it, then the folder itself. */
    public static void syncTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(p)) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                }
            }
        }
        syncDirectory(dir);
    }

    /**
     * A second, durable copy of a flat folder's files under {@code copy} (a new folder), made of hard links so
     * no byte is written twice; copies the bytes where the file system has no hard links.
     */
    public static void linkTree(Path dir, Path copy) throws IOException {
        Files.createDirectory(copy);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (!Files.isRegularFile(p)) {
                    throw new IOException("cannot link " + p + " into " + copy + ": only plain files are linked");
                }
                Path to = copy.resolve(p.getFileName().toString());
                try {
                    Files.createLink(to, p);
                } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
                    Files.copy(p, to);
                }
            }
        }
        syncTree(copy);
    }

    public static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Renames in one atomic step (same file system); fails rather than copy. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
            throw new IOException("cannot atomically rename " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    /** Makes a rename durable (Linux: fsync on the directory); a no-op where directories cannot be opened. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // some platforms cannot open a directory; the rename is still atomic there
        }
    }
}

package io.colo4j.zoo.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.io.AtomicFiles;
import io.colo4j.zoo.hf.HfCheckpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A checkpoint folder's {@code checksums.json}: the size and CRC32C of each of its files, written last when the
 * checkpoint is staged ({@link CheckpointStore#publish}) and verified before any of them is loaded (resume,
 * {@code eval}, {@code --init}), so a file cut short, zeroed or edited is refused naming it instead of training on.
 * Folders written before checksums existed have none: they load unverified, and the caller says so.
 */
public final class CheckpointManifest {
    /** The manifest's file name inside a checkpoint folder. */
    public static final String FILE = "checksums.json";
    private static final String FORMAT = "colo4j-checksums/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** CRC32C runs over a mapped window of this many bytes at a time. */
    private static final long WINDOW = 1L << 28;
    /**
     * Folders verified by this process, by what their files looked like (size and modification time): the ranks
     * of one JVM resume from the same folder, and one pass over its bytes is enough for all of them.
     */
    private static final Map<String, Boolean> VERIFIED = new ConcurrentHashMap<>();

    /** Whether a folder's files were checked against its manifest. */
    public enum Verification {
        VERIFIED,
        /** No {@value #FILE}: a checkpoint written before checksums, loaded as it is. */
        NO_CHECKSUMS
    }

    private CheckpointManifest() {}

    /** Writes the manifest of every file now in {@code dir} (a flat, fully written folder). */
    public static void write(Path dir) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("algorithm", "crc32c");
        ObjectNode files = root.putObject("files");
        for (Path p : files(dir)) {
            ObjectNode f = files.putObject(p.getFileName().toString());
            f.put("bytes", Files.size(p));
            f.put("crc32c", hex(crc32c(p)));
        }
        AtomicFiles.writeString(dir.resolve(FILE), JSON.writeValueAsString(root) + "\n");
    }

    /**
     * Checks every file the manifest of {@code dir} lists (size, then CRC32C), and that it lists each of
     * {@code required} (the files the caller will read); throws naming the first file that differs.
     */
    public static Verification verify(Path dir, Collection<String> required) throws IOException {
        Path manifest = dir.resolve(FILE);
        if (!Files.exists(manifest, LinkOption.NOFOLLOW_LINKS)) {
            return Verification.NO_CHECKSUMS;
        }
        StrictJson json = StrictJson.read(manifest);
        String format = json.text(json.root(), "", "format");
        if (!FORMAT.equals(format) || !"crc32c".equals(json.text(json.root(), "", "algorithm"))) {
            throw new IOException(manifest + ": unknown checksum format '" + format + "' (expected '" + FORMAT + "', crc32c)");
        }
        JsonNode files = json.object(json.root(), "", "files");
        Map<String, long[]> expected = new TreeMap<>();
        StringBuilder seen = new StringBuilder(dir.toRealPath().toString());
        for (Map.Entry<String, JsonNode> e : files.properties()) {
            String name = e.getKey();
            if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw json.error("files." + name, "names no file of this folder");
            }
            long bytes = json.integer(e.getValue(), "files." + name, "bytes", 0, Long.MAX_VALUE);
            String crc = json.text(e.getValue(), "files." + name, "crc32c");
            if (!crc.matches("[0-9a-f]{8}")) {
                throw json.error("files." + name + ".crc32c", "is '" + crc + "', not 8 hex digits");
            }
            expected.put(name, new long[] {bytes, Long.parseLong(crc, 16)});
            Path p = dir.resolve(name);
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(p + ": listed in " + manifest + " but missing (or not a plain file): the checkpoint is incomplete");
            }
            seen.append('|').append(name).append(':').append(fingerprint(p));
        }
        for (String name : required) {
            if (!expected.containsKey(name)) {
                throw new IOException(dir.resolve(name) + " is not covered by " + manifest + ": the checkpoint's files were changed after it was written");
            }
        }
        seen.append('|').append(fingerprint(manifest));
        try {
            VERIFIED.computeIfAbsent(seen.toString(), key -> {
                check(dir, manifest, expected);
                return true;
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return Verification.VERIFIED;
    }

    private static void check(Path dir, Path manifest, Map<String, long[]> expected) {
        try {
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                Path p = dir.resolve(e.getKey());
                long bytes = Files.size(p);
                if (bytes != e.getValue()[0]) {
                    throw new IOException(p + ": " + bytes + " bytes, but " + manifest + " says " + e.getValue()[0]
                            + ": the file was cut short or changed after the checkpoint was written");
                }
                long crc = crc32c(p);
                if (crc != e.getValue()[1]) {
                    throw new IOException(p + ": CRC32C " + hex(crc) + ", but " + manifest + " says " + hex(e.getValue()[1])
                            + ": the file is damaged (changed after the checkpoint was written)");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Before a model folder is loaded ({@code eval}, {@code --init}): verifies the config and weights against its
     * manifest when it has one; a training checkpoint without one (written before checksums) loads with a note on
     * {@code notes}; an HF folder (which never has one) loads silently.
     */
    public static Verification verifyModelFolder(Path dir, PrintStream notes) throws IOException {
        Verification v = verify(dir, List.of(HfCheckpoint.CONFIG, HfCheckpoint.WEIGHTS));
        if (v == Verification.NO_CHECKSUMS && Files.exists(dir.resolve(TrainCheckpoint.STATE))) {
            notes.println(unverifiedNote(dir));
        }
        return v;
    }

    /** The line that says a checkpoint was loaded without checksums. */
    public static String unverifiedNote(Path dir) {
        return "note: " + dir + " has no " + FILE + " (written before checkpoints carried checksums): its files are loaded unverified";
    }

    /** What a file looks like without reading it: its inode, size and modification time. */
    private static String fingerprint(Path p) throws IOException {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return a.fileKey() + ":" + a.size() + ":" + a.lastModifiedTime().toInstant();
    }

    /** The regular files of {@code dir}, but the manifest, by name. */
    private static Collection<Path> files(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            Map<String, Path> out = new TreeMap<>();
            for (Path p : (Iterable<Path>) list::iterator) {
                String name = p.getFileName().toString();
                if (!name.equals(FILE) && !name.startsWith(".")) {
                    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        throw new IOException("cannot checksum " + p + ": a checkpoint holds only plain files");
                    }
                    out.put(name, p);
                }
            }
            return out.values();
        }
    }

    static long crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            for (long at = 0; at < size; at += WINDOW) {
                MappedByteBuffer window = ch.map(FileChannel.MapMode.READ_ONLY, at, Math.min(WINDOW, size - at));
                crc.update(window);
            }
        }
        return crc.getValue();
    }

    private static String hex(long crc) {
        return String.format(Locale.ROOT, "%08x", crc);
    }
}

package io.colo4j.zoo.train;

import io.colo4j.tensor.comm.PeerProcesses;
import io.colo4j.zoo.io.AtomicFiles;
import io.colo4j.zoo.io.InputFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A save folder's checkpoints: each is staged in a hidden folder, published atomically as
 * {@code checkpoint-<step>/}, then named by the {@code latest} file; older ones beyond {@code keep} are
 * pruned, with the staged folders of writers that died mid-checkpoint. What goes into a checkpoint is
 * {@link TrainCheckpoint}'s job; this class only knows folders.
 */
public final class CheckpointStore {
    /** The file naming the newest published checkpoint of a save folder. */
    public static final String LATEST = "latest";
    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");
    /** A checkpoint being written: {@code .checkpoint-<step>.tmp-<pid>@<host>-<nanos>}. */
    private static final Pattern STAGED = Pattern.compile("\\.checkpoint-\\d+\\.tmp-(\\d+)@(.+)-\\d+");
    /** This process as a checkpoint writer: pid@host (the host name made file-name safe). */
    static final String WRITER = ProcessHandle.current().pid() + "@" + PeerProcesses.hostName().replaceAll("[^A-Za-z0-9._-]", "_");

    /** Writes a checkpoint's files into the (empty, staged) folder it is given. */
    @FunctionalInterface
    public interface Contents {
        void writeTo(Path staged) throws IOException;
    }

    private final Path dir;
    private final int keep;

    /** The checkpoints in {@code dir}, of which the newest {@code keep} (at least 1) are kept. */
    public CheckpointStore(Path dir, int keep) {
        this.dir = dir;
        this.keep = Math.max(1, keep);
    }

    public Path dir() {
        return dir;
    }

    /** Where the checkpoint of {@code step} is (or will be) published. */
    public Path pathOf(long step) {
        return dir.resolve(name(step));
    }

    private static String name(long step) {
        return String.format(Locale.ROOT, "checkpoint-%d", step);
    }

    /**
     * Writes the checkpoint of {@code step} into a staged folder, publishes it as {@code checkpoint-<step>}
     * (replacing one of that step), points {@code latest} at it and prunes; returns its path. A crash at any
     * point leaves {@code latest} naming a whole checkpoint.
     */
    public Path publish(long step, Contents contents) throws IOException {
        Files.createDirectories(dir);
        Path target = pathOf(step);
        Path staged = dir.resolve("." + name(step) + ".tmp-" + WRITER + "-" + System.nanoTime());
        try {
            Files.createDirectories(staged);
            contents.writeTo(staged);
            AtomicFiles.publishDirectory(staged, target);
        } finally {
            AtomicFiles.deleteRecursively(staged);
        }
        AtomicFiles.writeString(dir.resolve(LATEST), name(step) + "\n");
        return target;
    }

    /**
     * Deletes all but the newest {@code keep} checkpoints (never {@code current}'s), and the staged folders of
     * writers that died mid-checkpoint (killed ranks leave them; nothing ever reads them, but each is as large as
     * a checkpoint). A staged folder is only deleted when its writer ran on this host and is no longer running.
     */
    public void prune(long current) throws IOException {
        List<Long> found = new ArrayList<>();
        String host = WRITER.substring(WRITER.indexOf('@') + 1);
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                Matcher m = CHECKPOINT.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    found.add(Long.parseLong(m.group(1)));
                }
                Matcher s = STAGED.matcher(p.getFileName().toString());
                if (s.matches() && s.group(2).equals(host) && PeerProcesses.hasEnded(Long.parseLong(s.group(1)))) {
                    AtomicFiles.deleteRecursively(p);
                }
            }
        }
        found.sort((a, b) -> Long.compare(b, a));
        for (int i = keep; i < found.size(); i++) {
            if (found.get(i) != current) {
                AtomicFiles.deleteRecursively(pathOf(found.get(i)));
            }
        }
    }

    /**
     * The checkpoint a path names: a checkpoint folder itself (it holds {@code marker}), or a save folder
     * whose {@code latest} file names one.
     */
    static Path resolve(Path path, String marker) throws IOException {
        if (Files.isRegularFile(path.resolve(marker))) {
            return path;
        }
        Path latest = path.resolve(LATEST);
        if (Files.isRegularFile(latest)) {
            String name = InputFiles.readUtf8(latest, "latest file").strip();
            Path cp = path.resolve(name);
            if (!CHECKPOINT.matcher(name).matches() || !Files.isRegularFile(cp.resolve(marker))) {
                throw new IOException(latest + " names '" + name + "', which is not a checkpoint in " + path);
            }
            return cp;
        }
        throw new IOException(path + " is neither a checkpoint folder (no " + marker + ") nor a save folder (no " + LATEST + ")");
    }
}

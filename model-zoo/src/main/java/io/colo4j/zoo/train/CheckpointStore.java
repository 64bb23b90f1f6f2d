package io.colo4j.zoo.train;

import io.colo4j.tensor.comm.PeerProcesses;
import io.colo4j.zoo.io.AtomicFiles;
import io.colo4j.zoo.io.InputFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A save folder's checkpoints: each is staged in a hidden folder with its {@link CheckpointManifest}, published
 * as {@code checkpoint-<step>/}, then named by the {@code latest} file; older ones beyond {@code keep} are pruned,
 * with what killed writers left behind. What goes into a checkpoint is {@link TrainCheckpoint}'s job; this class
 * only knows folders.
 *
 * <p>The one promise: at every moment (a kill -9 may come at any), {@code latest} names a complete checkpoint.
 * A new step's folder is renamed into place before {@code latest} names it. Re-writing a step that already has a
 * folder (a requeued job, a resume from an older checkpoint) cannot rename over it, so {@code latest} first names
 * the complete staged copy, the old folder goes aside, a hard-linked twin of the staged copy is renamed into
 * {@code checkpoint-<step>}, and only then does {@code latest} name it again.
 */
public final class CheckpointStore {
    /** The file naming the newest published checkpoint of a save folder. */
    public static final String LATEST = "latest";
    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");
    /** A checkpoint being written, or its linked twin: {@code .checkpoint-<step>.tmp-<pid>@<host>-<nanos>}. */
    private static final Pattern STAGED = Pattern.compile("\\.checkpoint-\\d+\\.tmp-(\\d+)@(.+)-\\d+");
    /** A re-written step's old folder, set aside: {@code .checkpoint-<step>.old-<pid>@<host>-<nanos>} ({@code .old-<nanos>} before). */
    private static final Pattern SET_ASIDE = Pattern.compile("\\.checkpoint-\\d+\\.old-(?:(\\d+)@(.+)-)?\\d+");
    /** {@link AtomicFiles}' temporary copies of the save folder's own files and {@link SaveFolder}'s probe, left by a kill. */
    private static final Pattern TEMP_FILE = Pattern.compile("\\.(latest|losses\\.csv|loss\\.png)\\..+\\.tmp|" + Pattern.quote(SaveFolder.PROBE) + ".+\\.tmp");
    /** This process as a checkpoint writer: pid@host (the host name made file-name safe). */
    static final String WRITER = ProcessHandle.current().pid() + "@" + PeerProcesses.hostName().replaceAll("[^A-Za-z0-9._-]", "_");
    private static final String HOST = WRITER.substring(WRITER.indexOf('@') + 1);

    /**
     * Test seam: told each point of {@link #publish} after which a kill leaves a different state on disk (a test
     * copies the folder there, which is what a kill would leave, or pauses to kill the process for real).
     */
    static volatile Consumer<String> reached = point -> {};

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

    /** A hidden folder name of this writer for {@code step}: {@code kind} is tmp (staged) or old (set aside). */
    private Path hidden(long step, String kind) {
        return dir.resolve("." + name(step) + "." + kind + "-" + WRITER + "-" + System.nanoTime());
    }

    /**
     * Writes the checkpoint of {@code step} into a staged folder with its checksums, publishes it as
     * {@code checkpoint-<step>} (replacing one of that step), points {@code latest} at it; returns its path. A
     * kill at any point leaves {@code latest} naming a whole checkpoint.
     */
    public Path publish(long step, Contents contents) throws IOException {
        Files.createDirectories(dir);
        Path target = pathOf(step);
        Path staged = hidden(step, "tmp");
        Path linked = null;
        boolean latestNamesStaged = false;
        try {
            Files.createDirectories(staged);
            contents.writeTo(staged);
            CheckpointManifest.write(staged);
            AtomicFiles.syncTree(staged);
            reached.accept("staged");
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                writeLatest(staged.getFileName().toString());
                latestNamesStaged = true;
                reached.accept("latest names the staged copy");
                Path aside = hidden(step, "old");
                AtomicFiles.move(target, aside);
                AtomicFiles.syncDirectory(dir);
                reached.accept("old set aside");
                linked = hidden(step, "tmp");
                AtomicFiles.linkTree(staged, linked);
                reached.accept("linked twin written");
                AtomicFiles.move(linked, target);
                AtomicFiles.syncDirectory(dir);
                reached.accept("in place");
                writeLatest(name(step));
                latestNamesStaged = false;
                reached.accept("latest names it");
                AtomicFiles.deleteRecursively(aside);
            } else {
                AtomicFiles.move(staged, target);
                AtomicFiles.syncDirectory(dir);
                reached.accept("in place");
                writeLatest(name(step));
                reached.accept("latest names it");
            }
        } finally {
            // a failed write leaves nothing behind, except the staged copy while latest names it (the next prune's)
            if (!latestNamesStaged) {
                AtomicFiles.deleteRecursively(staged);
            }
            if (linked != null) {
                AtomicFiles.deleteRecursively(linked);
            }
        }
        return target;
    }

    private void writeLatest(String name) throws IOException {
        AtomicFiles.writeString(dir.resolve(LATEST), name + "\n");
    }

    /**
     * Deletes all but the newest {@code keep} checkpoints (never {@code current}'s), and what writers that died
     * mid-checkpoint left ({@link #pruneLeftovers}).
     */
    public void prune(long current) throws IOException {
        pruneCheckpoints(current, keep);
    }

    /** Deletes every checkpoint but {@code current}'s: the first checkpoint of a run that replaces the folder's previous run. */
    public void pruneAllBut(long current) throws IOException {
        pruneCheckpoints(current, 0);
    }

    private void pruneCheckpoints(long current, int newest) throws IOException {
        pruneLeftovers();
        List<Long> found = new ArrayList<>();
        for (Path p : entries()) {
            Matcher m = CHECKPOINT.matcher(p.getFileName().toString());
            if (m.matches() && Files.isDirectory(p)) {
                found.add(Long.parseLong(m.group(1)));
            }
        }
        found.sort((a, b) -> Long.compare(b, a));
        for (int i = newest; i < found.size(); i++) {
            if (found.get(i) != current) {
                AtomicFiles.deleteRecursively(pathOf(found.get(i)));
            }
        }
    }

    /**
     * Deletes what killed writers left: staged folders and set-aside old ones (each as large as a checkpoint;
     * nothing reads them) and temporary copies of {@code latest}, losses.csv and loss.png. A staged or set-aside
     * folder goes only when its writer ran on this host and is no longer running, and never the one {@code latest}
     * names; set-aside folders of writers before checksums (no writer in the name) always go.
     */
    public void pruneLeftovers() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        String latest = latestName();
        for (Path p : entries()) {
            String name = p.getFileName().toString();
            Matcher staged = STAGED.matcher(name);
            Matcher aside = SET_ASIDE.matcher(name);
            if (staged.matches() && !name.equals(latest) && writerGone(staged.group(1), staged.group(2))
                    || aside.matches() && (aside.group(1) == null || writerGone(aside.group(1), aside.group(2)))) {
                AtomicFiles.deleteRecursively(p);
            } else if (TEMP_FILE.matcher(name).matches() && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Whether a leftover's writer is gone: this process between checkpoints, or an ended process of this host. */
    private static boolean writerGone(String pid, String host) {
        long id = Long.parseLong(pid);
        return host.equals(HOST) && (id == ProcessHandle.current().pid() || PeerProcesses.hasEnded(id));
    }

    /** What of a run the folder holds ({@code latest}, losses.csv, checkpoint folders), by name; none when it is empty. */
    List<String> previousRun() throws IOException {
        List<String> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        for (Path p : entries()) {
            String name = p.getFileName().toString();
            if (name.equals(LATEST) || name.equals(SaveFolder.LOSSES) || CHECKPOINT.matcher(name).matches()) {
                found.add(name);
            }
        }
        found.sort(null);
        return found;
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.toList();
        }
    }

    /** What {@code latest} names now, or null when there is no readable {@code latest}. */
    private String latestName() {
        try {
            return Files.readString(dir.resolve(LATEST), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The checkpoint a path names: a checkpoint folder itself (it holds {@code marker}), or a save folder
     * whose {@code latest} file names one (published, or staged while its step is re-written).
     */
    static Path resolve(Path path, String marker) throws IOException {
        if (Files.isRegularFile(path.resolve(marker))) {
            return path;
        }
        Path latest = path.resolve(LATEST);
        if (Files.isRegularFile(latest)) {
            String name = InputFiles.readUtf8(latest, "latest file").strip();
            Path cp = path.resolve(name);
            if (!(CHECKPOINT.matcher(name).matches() || STAGED.matcher(name).matches()) || !Files.isRegularFile(cp.resolve(marker))) {
                throw new IOException(latest + " names '" + name + "', which is not a checkpoint in " + path);
            }
            return cp;
        }
        if (!Files.exists(path)) {
            throw new IOException(path + ": no such folder");
        }
        if (!Files.isDirectory(path)) {
            throw new IOException(path + " is neither a checkpoint folder (no " + marker + ") nor a save folder: it is not a folder");
        }
        throw new IOException(path + " holds no checkpoint yet (no " + marker + ", no " + LATEST + "): a run that stopped before its "
                + "first checkpoint leaves nothing to resume; train without --resume to start afresh");
    }
}

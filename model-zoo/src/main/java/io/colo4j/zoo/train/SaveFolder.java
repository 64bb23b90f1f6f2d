package io.colo4j.zoo.train;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The save folder of a run, checked before its first step rather than at its first checkpoint (which, with no
 * --save-every, comes after the last step and would lose the run): it must be a folder this process can create
 * files in, and a fresh run must not write into one that holds another run's checkpoints or losses, unless it
 * resumes (continues that run) or was told to overwrite it. Each refusal is one line naming the folder and the reason.
 */
public final class SaveFolder {
    /** The loss history a save folder holds, one line per step. */
    public static final String LOSSES = "losses.csv";
    /** The prefix of the file created (and deleted) to prove the folder writable. */
    static final String PROBE = ".colo4j-write-check-";

    private SaveFolder() {}

    /**
     * Proves a file can be created in {@code dir} (or where it will be created); unless {@code mayHoldARun}, refuses a
     * folder holding another run ({@code latest}, losses.csv or a checkpoint folder).
     */
    public static void check(Path dir, boolean mayHoldARun) {
        writable(dir);
        if (!mayHoldARun) {
            List<String> found = runFiles(dir);
            if (!found.isEmpty()) {
                throw new IllegalArgumentException("save folder " + dir + " already holds a run (" + String.join(", ", found)
                        + "): give --resume " + dir + " to continue it, --overwrite to replace it, or another --save folder");
            }
        }
    }

    /**
     * Proves a file can be created in {@code dir}, or, while it does not exist yet, in the nearest folder above it
     * that does (where the run will create it): a refused run leaves no empty save folder behind.
     */
    private static void writable(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw refused(dir, Files.isRegularFile(dir) ? "it is a file, not a folder" : "it is not a folder (a device or other special file)");
        }
        Path existing = dir.toAbsolutePath().normalize();
        while (!Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (!Files.isDirectory(existing)) {
            throw refused(dir, "cannot create it: " + existing + " exists and is not a folder");
        }
        boolean creates = !existing.equals(dir.toAbsolutePath().normalize());
        Path probe = null;
        try {
            probe = Files.createTempFile(existing, PROBE, ".tmp");
        } catch (IOException e) {
            throw refused(dir, (creates ? "cannot create it in " + existing + ": " : "cannot create a file in it: ") + reason(e));
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException e) {
                    throw refused(dir, "cannot delete a file in " + existing + " (" + probe.getFileName() + "): " + reason(e));
                }
            }
        }
    }

    private static List<String> runFiles(Path dir) {
        try {
            List<String> found = new CheckpointStore(dir, 1).previousRun();
            return found.size() > 4 ? List.of(String.join(", ", found.subList(0, 4)), "...") : found;
        } catch (IOException e) {
            throw refused(dir, "cannot list it: " + reason(e));
        }
    }

    private static IllegalArgumentException refused(Path dir, String reason) {
        return new IllegalArgumentException("save folder " + dir + " cannot be used: " + reason);
    }

    /** The OS's reason (permission denied, read-only file system, not a directory...), not just the path. */
    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException f) {
            return f.getFile() + " exists and is not a folder";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason().toLowerCase(java.util.Locale.ROOT) + (f.getFile() == null ? "" : " (" + f.getFile() + ")");
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}

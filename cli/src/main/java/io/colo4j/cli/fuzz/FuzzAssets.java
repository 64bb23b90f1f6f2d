package io.colo4j.cli.fuzz;

import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.HfFamilyOps;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the corpora start from, made once per campaign: a valid tiny GPT-2 folder (config.json +
 * model.safetensors), a valid tokens file, and the ways to lay a hostile file out (FIFO, sparse giant).
 */
final class FuzzAssets {
    static final String WEIGHTS = "model.safetensors";
    /** Larger than one Java array (and than most heaps): a file that must be refused before it is read. */
    static final long GIANT_BYTES = 3L << 30;

    final byte[] config;
    final byte[] weights;
    final Path model;
    /** The time the base run of a corpus may take: it is not an input, and it trains. */
    static final long BASE_RUN_MILLIS = 120_000;
    /** How the corpora run the CLI (the runner's in-process, captured call), for the assets made from a run. */
    java.util.function.Function<List<String>, Outcome.Run> cli;
    private Path savedRun;

    private FuzzAssets(Path model) throws IOException {
        this.model = model;
        this.config = Files.readAllBytes(model.resolve(HfCheckpoint.CONFIG));
        this.weights = Files.readAllBytes(model.resolve(WEIGHTS));
    }

    static FuzzAssets create(Path root) throws IOException {
        HfFamilyOps hf = ModelZoo.family("gpt2").requireHf();
        Path model = root.resolve("base-model");
        hf.languageModel(hf.build(hf.config("tiny"), 1L)).save(model);
        return new FuzzAssets(model);
    }

    /** A model folder {@code dir/model} with these files; a null leaves that file out (for the caller to lay it out). */
    Path model(Path dir, byte[] configBytes, byte[] weightBytes) throws IOException {
        Path m = Files.createDirectories(dir.resolve("model"));
        if (configBytes != null) {
            Files.write(m.resolve(HfCheckpoint.CONFIG), configBytes);
        }
        if (weightBytes != null) {
            Files.write(m.resolve(WEIGHTS), weightBytes);
        }
        return m;
    }

    /** A save folder of a tiny run, two steps, a checkpoint after each (made on first use, from {@link #cli}). */
    synchronized Path savedRun() throws IOException {
        if (savedRun == null) {
            Path save = model.resolveSibling("base-save");
            Outcome.Run run = cli.apply(List.of("train", "--steps", "2", "--batch", "2", "--seq", "8", "--save-every", "1", "--save", save.toString()));
            if (run.exit() != 0) {
                throw new IOException("the base run for the checkpoint corpus failed (exit " + run.exit() + (run.timedOut() ? ", timed out" : "")
                        + "): " + run.err() + run.out());
            }
            savedRun = save;
        }
        return savedRun;
    }

    /** A copy of {@link #savedRun} at {@code to} (its files and checkpoint folders). */
    Path copyOfSavedRun(Path to) throws IOException {
        Path from = savedRun();
        Files.createDirectories(to);
        try (var entries = Files.list(from)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                if (Files.isDirectory(p)) {
                    CheckpointCorpus.copyTree(p, to.resolve(p.getFileName().toString()));
                } else {
                    Files.copy(p, to.resolve(p.getFileName().toString()));
                }
            }
        }
        return to;
    }

    /** A valid --tokens file for the tiny model (ids below its vocabulary of 256). */
    static Path tokens(Path dir) throws IOException {
        return Files.writeString(dir.resolve("tokens.txt"), "1 2 3 4 5 6 7 8\n9 10 11 12\n");
    }

    static Path fifo(Path p) throws IOException {
        try {
            if (new ProcessBuilder("mkfifo", p.toString()).start().waitFor() != 0) {
                throw new IOException("mkfifo " + p + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted making " + p, e);
        }
        return p;
    }

    /** A sparse file of {@link #GIANT_BYTES} zeros: no disk, but its size is what a reader sees. */
    static Path giant(Path p) throws IOException {
        return sparse(p, GIANT_BYTES);
    }

    /** A sparse file of {@code bytes} zeros. */
    static Path sparse(Path p, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static Path write(Path p, String text) throws IOException {
        return Files.writeString(p, text);
    }

    /** {@code text} as UTF-8 with one byte that is not UTF-8 (a Latin-1 e-acute) at {@code at}. */
    static byte[] notUtf8(String text, int at) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, at);
        out[at] = (byte) 0xE9;
        System.arraycopy(b, at, out, at + 1, b.length - at);
        return out;
    }
}

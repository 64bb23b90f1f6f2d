package io.colo4j.cli.fuzz;

import io.colo4j.zoo.fuzz.SafeTensorsMutations;
import io.colo4j.zoo.train.CheckpointManifest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * A save folder of a tiny run (two checkpoints, {@link FuzzAssets#savedRun}) made hostile, then resumed with
 * {@code train --resume}: files changed after they were written (caught by their checksums), trainer.json and
 * checksums.json damaged with the manifest rewritten to match (so only the strict readers can catch it),
 * optimizer files cut short or zeroed, {@code latest} naming junk, and what killed writers leave: stale staged and
 * set-aside folders and temporary files, and {@code latest} naming a staged copy while the step's folder is set
 * aside (the states the hooks of CheckpointRewriteTest stop at). Those must resume; the damage must be refused
 * naming the file.
 */
final class CheckpointCorpus implements Corpus {
    private static final String CHECKPOINT = "checkpoint-2";
    private static final String[] FILES = {"trainer.json", "optimizer.safetensors", "model.safetensors", "config.json", CheckpointManifest.FILE};

    private final FuzzAssets assets;

    CheckpointCorpus(FuzzAssets assets) {
        this.assets = assets;
    }

    /** What a case does to its copy of the save folder; returns the culprit a refusal must name. */
    @FunctionalInterface
    private interface Damage {
        Object apply(Path save) throws IOException;
    }

    private Case resume(String label, Expect expect, Damage damage) {
        return resume(label, expect, 3, damage);
    }

    private Case resume(String label, Expect expect, int steps, Damage damage) {
        return new Case(label, expect, dir -> {
            Path save = assets.copyOfSavedRun(dir.resolve("save"));
            Object culprit = damage.apply(save);
            return HostileInput.Invocation.of(culprit, "train", "--resume", save, "--steps", steps, "--batch", 2, "--seq", 8);
        });
    }

    private static Path file(Path save, String name) {
        return save.resolve(CHECKPOINT).resolve(name);
    }

    /** {@code name} of the latest checkpoint edited as text; with {@code reseal} the checksums are rewritten to match. */
    private Case editText(String label, String name, boolean reseal, UnaryOperator<String> edit) {
        return resume(name + " " + label + (reseal ? " (checksums rewritten)" : ""), Expect.INVALID, save -> {
            Path f = file(save, name);
            Files.writeString(f, edit.apply(Files.readString(f)));
            if (reseal) {
                CheckpointManifest.write(f.getParent());
            }
            return f;
        });
    }

    private Case latest(String label, byte[] content) {
        return resume("latest " + label, Expect.INVALID, save -> Files.write(save.resolve("latest"), content));
    }

    @Override
    public List<Case> fixed() {
        List<Case> cases = new ArrayList<>();
        cases.add(resume("the saved run", Expect.VALID, save -> save));
        cases.add(new Case("its checkpoint folder", Expect.VALID, dir -> {
            Path checkpoint = assets.copyOfSavedRun(dir.resolve("save")).resolve(CHECKPOINT);
            return HostileInput.Invocation.of(checkpoint, "train", "--resume", checkpoint, "--steps", 3, "--batch", 2, "--seq", 8);
        }));
        cases.add(editText("with a changed digit", "trainer.json", false, s -> s.replaceFirst("\"step\" : 2", "\"step\" : 3")));
        cases.add(editText("with a loss that is not a number", "trainer.json", true, s -> s.replaceFirst("(\"losses\" : \\[ )[-0-9.eE]+", "$1\"abc\"")));
        cases.add(editText("with trailing garbage", "trainer.json", true, s -> s + "{}"));
        cases.add(editText("with step -1", "trainer.json", true, s -> s.replaceFirst("\"step\" : 2", "\"step\" : -1")));
        cases.add(editText("with step as text", "trainer.json", true, s -> s.replaceFirst("\"step\" : 2", "\"step\" : \"2\"")));
        cases.add(editText("with optimizer step counts of 7", "trainer.json", true, s -> s.replaceAll("(\"optimizer_steps\" : \\{[^}]*?) 2", "$1 7")));
        cases.add(editText("cut in half", "trainer.json", true, s -> s.substring(0, s.length() / 2)));
        cases.add(editText("with an unknown format", CheckpointManifest.FILE, false, s -> s.replace("colo4j-checksums/1", "colo4j-checksums/9")));
        cases.add(editText("listing a file that is not there", CheckpointManifest.FILE, false,
                s -> s.replaceFirst("\"files\" : \\{", "\"files\" : { \"ghost.bin\" : { \"bytes\" : 1, \"crc32c\" : \"00000000\" },")));
        cases.add(editText("with a wrong checksum", CheckpointManifest.FILE, false, s -> s.replaceFirst("\"crc32c\" : \"[0-9a-f]{8}\"", "\"crc32c\" : \"0badf00d\"")));
        cases.add(resume("optimizer.safetensors cut short", Expect.INVALID, save -> {
            Path f = file(save, "optimizer.safetensors");
            try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
                r.setLength(r.length() - 100);
            }
            return f;
        }));
        cases.add(resume("optimizer.safetensors with a zeroed tail", Expect.INVALID, save -> zeroTail(file(save, "optimizer.safetensors"), false)));
        cases.add(resume("optimizer.safetensors with a zeroed tail (checksums rewritten)", Expect.EITHER,
                save -> zeroTail(file(save, "optimizer.safetensors"), true)));
        cases.add(resume("optimizer.safetensors missing", Expect.INVALID, save -> {
            Files.delete(file(save, "optimizer.safetensors"));
            return file(save, "optimizer.safetensors");
        }));
        cases.add(resume("model.safetensors with a flipped bit", Expect.INVALID, save -> {
            Path f = file(save, "model.safetensors");
            byte[] b = Files.readAllBytes(f);
            b[b.length - 3] ^= 0x10;
            return Files.write(f, b);
        }));
        cases.add(latest("naming a missing checkpoint", "checkpoint-999\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(latest("naming a folder outside", "../../..\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(latest("empty", new byte[0]));
        cases.add(latest("not UTF-8", new byte[] {'c', 'h', (byte) 0xFF, '\n'}));
        cases.add(latest("naming trainer.json", (CHECKPOINT + "/trainer.json").getBytes(StandardCharsets.UTF_8)));
        cases.add(resume("latest a 3 GiB sparse file", Expect.INVALID, CheckpointCorpus::sparseLatest));
        cases.add(resume("latest missing", Expect.INVALID, save -> {
            Files.delete(save.resolve("latest"));
            Files.delete(save.resolve("checkpoint-1").resolve("trainer.json"));
            Files.delete(save.resolve(CHECKPOINT).resolve("trainer.json"));
            return save;
        }));
        cases.add(resume("stale staged, set-aside and temporary leftovers", Expect.VALID, save -> {
            copyTree(save.resolve("checkpoint-1"), save.resolve(".checkpoint-2.tmp-999999@elsewhere-1"));
            copyTree(save.resolve("checkpoint-1"), save.resolve(".checkpoint-1.old-12345"));
            Files.writeString(save.resolve(".latest.123.tmp"), "checkpoint-1");
            Files.delete(save.resolve(".checkpoint-2.tmp-999999@elsewhere-1").resolve("trainer.json")); // cut short by the kill
            return save;
        }));
        cases.add(resume("a writer killed while re-writing step 2 (latest names the staged copy, the old one set aside)", Expect.VALID, save -> {
            String staged = ".checkpoint-2.tmp-999999@elsewhere-2";
            copyTree(save.resolve(CHECKPOINT), save.resolve(staged));
            Files.move(save.resolve(CHECKPOINT), save.resolve(".checkpoint-2.old-999999@elsewhere-1"));
            Files.writeString(save.resolve("latest"), staged + "\n");
            return save;
        }));
        cases.add(resume("--steps below the checkpoint's step", Expect.INVALID, 1, save -> "--steps"));
        return cases;
    }

    private static Path sparseLatest(Path save) throws IOException {
        Path latest = save.resolve("latest");
        Files.delete(latest);
        return FuzzAssets.giant(latest);
    }

    private static Path zeroTail(Path f, boolean reseal) throws IOException {
        byte[] b = Files.readAllBytes(f);
        java.util.Arrays.fill(b, b.length - Math.min(b.length / 4, 256), b.length, (byte) 0);
        Files.write(f, b);
        if (reseal) {
            CheckpointManifest.write(f.getParent());
        }
        return f;
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.copy(p, to.resolve(p.getFileName().toString()));
            }
        }
    }

    @Override
    public Case random(SplittableRandom rng) {
        String name = FILES[rng.nextInt(FILES.length)];
        boolean reseal = !name.equals(CheckpointManifest.FILE) && rng.nextBoolean();
        long seed = rng.nextLong();
        return resume("random damage to " + name + (reseal ? " (checksums rewritten)" : ""), Expect.EITHER, save -> {
            Path f = file(save, name);
            byte[] b = Files.readAllBytes(f);
            SplittableRandom r = new SplittableRandom(seed);
            Files.write(f, name.endsWith(".safetensors") ? SafeTensorsMutations.mutate(b, SafeTensorsMutations.headerEnd(b), r) : JsonEdits.damage(b, r));
            if (reseal) {
                CheckpointManifest.write(f.getParent());
            }
            return f.getParent(); // the checkpoint folder: a damaged config.json may be refused through the weights it no longer fits
        });
    }
}

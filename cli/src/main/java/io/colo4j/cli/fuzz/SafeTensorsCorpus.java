package io.colo4j.cli.fuzz;

import io.colo4j.zoo.fuzz.SafeTensorsMutations;
import io.colo4j.zoo.fuzz.SafeTensorsMutations.Forbidden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A tiny GPT-2's model.safetensors broken as {@link SafeTensorsMutations} breaks it (what the format forbids,
 * non-finite weights, random damage), or replaced by a FIFO, a folder, nothing, or a 3 GiB sparse file; each
 * folder goes to {@code eval}, at tp 1 or 2 (each rank reads its own blocks).
 */
final class SafeTensorsCorpus implements Corpus {
    private final FuzzAssets assets;
    private final int headerEnd;

    SafeTensorsCorpus(FuzzAssets assets) {
        this.assets = assets;
        this.headerEnd = SafeTensorsMutations.headerEnd(assets.weights);
    }

    /** eval of {@code model} at {@code tp}; the refusal must name the weights file (or the folder, where the file is missing). */
    private static HostileInput.Invocation eval(Path model, Object culprit, int tp) throws java.io.IOException {
        return HostileInput.Invocation.of(culprit, "eval", "--model-dir", model, "--tokens", FuzzAssets.tokens(model.getParent()),
                "--tp", tp);
    }

    private Case bytes(String label, Expect expect, int tp, java.util.function.Function<SplittableRandom, byte[]> file, long seed) {
        return new Case(label + (tp > 1 ? " at tp " + tp : ""), expect, dir -> {
            Path m = assets.model(dir, assets.config, file.apply(new SplittableRandom(seed)));
            return eval(m, m.resolve(FuzzAssets.WEIGHTS), tp);
        });
    }

    @Override
    public List<Case> fixed() {
        List<Case> cases = new ArrayList<>();
        cases.add(bytes("the valid file", Expect.VALID, 1, rng -> assets.weights, 0));
        cases.add(new Case("a FIFO at tp 2", Expect.INVALID, dir -> {
            Path m = assets.model(dir, assets.config, null);
            return eval(m, FuzzAssets.fifo(m.resolve(FuzzAssets.WEIGHTS)), 2);
        }));
        for (Forbidden f : Forbidden.values()) {
            cases.add(bytes(f.name().toLowerCase(java.util.Locale.ROOT), Expect.INVALID, 1, rng -> f.apply(assets.weights, headerEnd, rng), 1));
        }
        cases.add(bytes("the valid file", Expect.VALID, 2, rng -> assets.weights, 0));
        cases.add(new Case("a folder", Expect.INVALID, dir -> {
            Path m = assets.model(dir, assets.config, null);
            return eval(m, Files.createDirectory(m.resolve(FuzzAssets.WEIGHTS)), 1);
        }));
        cases.add(new Case("no weights file", Expect.INVALID, dir -> {
            Path m = assets.model(dir, assets.config, null);
            return eval(m, m, 1);
        }));
        cases.add(bytes("an empty file", Expect.INVALID, 1, rng -> new byte[0], 0));
        cases.add(new Case("a 3 GiB sparse file of zeros", Expect.INVALID, dir -> {
            Path m = assets.model(dir, assets.config, null);
            return eval(m, FuzzAssets.giant(m.resolve(FuzzAssets.WEIGHTS)), 1);
        }));
        cases.add(bytes("header length 2^63 - 1", Expect.INVALID, 1, rng -> {
            byte[] b = assets.weights.clone();
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
            return b;
        }, 0));
        return cases;
    }

    @Override
    public Case random(SplittableRandom rng) {
        int tp = rng.nextInt(4) == 0 ? 2 : 1;
        long seed = rng.nextLong();
        if (rng.nextInt(4) == 0) {
            Forbidden f = Forbidden.values()[rng.nextInt(Forbidden.values().length)];
            return bytes(f.name().toLowerCase(java.util.Locale.ROOT), Expect.INVALID, tp, r -> f.apply(assets.weights, headerEnd, r), seed);
        }
        return bytes("random damage", Expect.EITHER, tp, r -> SafeTensorsMutations.mutate(assets.weights, headerEnd, r), seed);
    }
}

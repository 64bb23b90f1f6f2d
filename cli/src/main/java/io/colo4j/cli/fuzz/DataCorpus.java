package io.colo4j.cli.fuzz;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.train.TokenCache;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * The text files a run reads: eval's {@code --tokens} (ids per line), train's {@code --data} (UTF-8 text) and
 * {@code --tokenizer} (an HF tokenizer.json, or vocab.json + merges.txt) made hostile: not UTF-8, ids out of the
 * vocabulary, an empty added token, sparse files too large to read (or, for --data, to cache the ids of), FIFOs, folders. train runs 0 steps: the files are read
 * and checked, nothing is trained.
 */
final class DataCorpus implements Corpus {
    private static final String TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(40);

    private final FuzzAssets assets;

    DataCorpus(FuzzAssets assets) {
        this.assets = assets;
    }

    private Case tokens(String label, Expect expect, byte[] bytes) {
        return new Case("--tokens " + label, expect, dir -> evalTokens(Files.write(dir.resolve("tokens.txt"), bytes)));
    }

    private HostileInput.Invocation evalTokens(Path tokens) {
        return HostileInput.Invocation.of(tokens, "eval", "--model-dir", assets.model, "--tokens", tokens);
    }

    private static HostileInput.Invocation train(Path culprit, Object... options) {
        List<Object> args = new ArrayList<>(List.of("train", "--steps", 0, "--batch", 2, "--seq", 8));
        args.addAll(List.of(options));
        return HostileInput.Invocation.of(culprit, args.toArray());
    }

    private static Case data(String label, Expect expect, byte[] bytes) {
        return new Case("--data " + label, expect, dir -> {
            Path f = Files.write(dir.resolve("data.txt"), bytes);
            return train(f, "--data", f);
        });
    }

    private static Case tokenizer(String label, Expect expect, String json) {
        return tokenizer(label, expect, json.getBytes(StandardCharsets.UTF_8));
    }

    private static Case tokenizer(String label, Expect expect, byte[] json) {
        return new Case("--tokenizer " + label, expect, dir -> {
            Path f = Files.write(dir.resolve("tokenizer.json"), json);
            return train(f, "--tokenizer", f);
        });
    }

    /** GPT-2's printable stand-ins for the 256 bytes (its bytes_to_unicode): a byte-level vocabulary must hold them all. */
    static String byteChar(int b) {
        int next = 256;
        for (int i = 0; i < 256; i++) {
            boolean printable = i >= '!' && i <= '~' || i >= 0xA1 && i <= 0xAC || i >= 0xAE;
            int c = printable ? i : next++;
            if (i == b) {
                return String.valueOf((char) c);
            }
        }
        throw new IllegalArgumentException("not a byte: " + b);
    }

    /** A valid byte-level BPE tokenizer.json for the tiny model: the 256 byte tokens, no merges. */
    static ObjectNode byteLevelTokenizer() {
        ObjectNode root = JsonEdits.JSON.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(byteChar(b), b);
        }
        model.putArray("merges");
        root.putObject("pre_tokenizer").put("type", "ByteLevel");
        root.putArray("added_tokens");
        return root;
    }

    private static String tokenizerWith(java.util.function.Consumer<ObjectNode> edit) {
        ObjectNode t = byteLevelTokenizer();
        edit.accept(t);
        return t.toPrettyString();
    }

    @Override
    public List<Case> fixed() {
        List<Case> cases = new ArrayList<>();
        cases.add(tokens("valid", Expect.VALID, "1 2 3 4 5 6\n7 8 9\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(data("valid", Expect.VALID, TEXT.getBytes(StandardCharsets.UTF_8)));
        cases.add(tokenizer("valid", Expect.VALID, byteLevelTokenizer().toPrettyString()));
        cases.add(tokenizer("an empty added token", Expect.INVALID, tokenizerWith(t -> ((ArrayNode) t.get("added_tokens"))
                .addObject().put("id", 255).put("content", ""))));
        cases.add(data("not UTF-8", Expect.INVALID, FuzzAssets.notUtf8(TEXT, 100)));
        cases.add(tokens("not UTF-8", Expect.INVALID, FuzzAssets.notUtf8("1 2 3\n4 5 6\n", 6)));
        // a --data file of any size is tokenised in a streaming pass (minutes for 3 GiB, not an input to answer in 10 s);
        // one whose ids (4 bytes per byte) cannot fit the token cache's disk is refused before a byte is read
        cases.add(new Case("--data a sparse file whose ids cannot fit the token cache", Expect.INVALID, dir -> {
            long free = java.nio.file.Files.getFileStore(TokenCache.folder()).getUsableSpace();
            Path f = FuzzAssets.sparse(dir.resolve("data.txt"), Math.max(FuzzAssets.GIANT_BYTES, free));
            return train(f, "--data", f);
        }));
        cases.add(new Case("--data a FIFO", Expect.INVALID, dir -> {
            Path f = FuzzAssets.fifo(dir.resolve("data.txt"));
            return train(f, "--data", f);
        }));
        cases.add(new Case("--tokens a FIFO", Expect.INVALID, dir -> evalTokens(FuzzAssets.fifo(dir.resolve("tokens.txt")))));
        cases.add(new Case("--tokenizer a FIFO", Expect.INVALID, dir -> {
            Path f = FuzzAssets.fifo(dir.resolve("tokenizer.json"));
            return train(f, "--tokenizer", f);
        }));
        cases.add(new Case("--tokens a 3 GiB sparse file", Expect.INVALID, dir -> evalTokens(FuzzAssets.giant(dir.resolve("tokens.txt")))));
        cases.add(tokens("an id past the vocabulary", Expect.INVALID, "1 2 256\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(tokens("a negative id", Expect.INVALID, "1 -1 2\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(tokens("a word", Expect.INVALID, "1 abc 2\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(tokens("a 20-digit id", Expect.INVALID, "1 99999999999999999999 2\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(new Case("--tokens a folder", Expect.INVALID, dir -> evalTokens(Files.createDirectory(dir.resolve("tokens.txt")))));
        cases.add(new Case("--tokens missing", Expect.INVALID, dir -> evalTokens(dir.resolve("tokens.txt"))));
        cases.add(tokens("empty", Expect.EITHER, new byte[0]));
        cases.add(tokens("blank lines", Expect.EITHER, "\n\n  \n".getBytes(StandardCharsets.UTF_8)));
        cases.add(tokens("one token per line", Expect.EITHER, "1\n2\n".getBytes(StandardCharsets.UTF_8)));
        cases.add(tokens("a line longer than the positions", Expect.EITHER, "7 ".repeat(1000).getBytes(StandardCharsets.UTF_8)));
        cases.add(new Case("--data a folder", Expect.INVALID, dir -> {
            Path f = Files.createDirectory(dir.resolve("data.txt"));
            return train(f, "--data", f);
        }));
        cases.add(new Case("--data missing", Expect.INVALID, dir -> train(dir.resolve("data.txt"), "--data", dir.resolve("data.txt"))));
        cases.add(data("empty", Expect.EITHER, new byte[0]));
        cases.add(tokenizer("not JSON", Expect.INVALID, "{\"model\": "));
        cases.add(tokenizer("not UTF-8", Expect.INVALID, FuzzAssets.notUtf8(byteLevelTokenizer().toString(), 30)));
        cases.add(tokenizer("WordPiece", Expect.INVALID, tokenizerWith(t -> ((ObjectNode) t.get("model")).put("type", "WordPiece"))));
        cases.add(tokenizer("a negative id", Expect.INVALID, tokenizerWith(t -> ((ObjectNode) t.get("model").get("vocab")).put("x", -1))));
        cases.add(tokenizer("an id of 10^9", Expect.INVALID, tokenizerWith(t -> ((ObjectNode) t.get("model").get("vocab")).put("xy", 1_000_000_000))));
        cases.add(tokenizer("a merge of unknown tokens", Expect.INVALID, tokenizerWith(t -> ((ArrayNode) t.get("model").get("merges")).add("qq zz"))));
        cases.add(tokenizer("a byte missing", Expect.INVALID, tokenizerWith(t -> ((ObjectNode) t.get("model").get("vocab")).remove(byteChar('a')))));
        cases.add(tokenizer("more ids than the model", Expect.INVALID, tokenizerWith(t -> ((ArrayNode) t.get("added_tokens"))
                .addObject().put("id", 256).put("content", "<|endoftext|>"))));
        cases.add(new Case("--tokenizer vocab.json + merges.txt not UTF-8", Expect.INVALID, dir -> {
            Path vocab = Files.writeString(dir.resolve("vocab.json"), byteLevelTokenizer().get("model").get("vocab").toString());
            Path merges = Files.write(dir.resolve("merges.txt"), FuzzAssets.notUtf8("#version: 0.2\na b\n", 16));
            return train(merges, "--tokenizer", vocab, merges);
        }));
        return cases;
    }

    @Override
    public Case random(SplittableRandom rng) {
        return switch (rng.nextInt(3)) {
            case 0 -> { // ids in and out of the vocabulary
                StringJoiner lines = new StringJoiner("\n");
                boolean outside = false;
                for (int l = 0, n = 1 + rng.nextInt(4); l < n; l++) {
                    StringJoiner ids = new StringJoiner(" ");
                    for (int i = 0, m = 2 + rng.nextInt(10); i < m; i++) {
                        int id = rng.nextInt(12) == 0 ? rng.nextInt(-3, 300) : rng.nextInt(256);
                        outside |= id < 0 || id >= 256;
                        ids.add(Integer.toString(id));
                    }
                    lines.add(ids.toString());
                }
                yield tokens("random ids", outside ? Expect.INVALID : Expect.VALID, lines.toString().getBytes(StandardCharsets.UTF_8));
            }
            case 1 -> { // text with random bytes: refused when no longer UTF-8; too short to train on may be refused
                byte[] b = JsonEdits.damage(TEXT.getBytes(StandardCharsets.UTF_8), rng);
                yield data("random bytes", !isUtf8(b) ? Expect.INVALID : b.length >= 200 ? Expect.VALID : Expect.EITHER, b);
            }
            default -> tokenizer("random damage", Expect.EITHER, JsonEdits.damage(byteLevelTokenizer().toPrettyString()
                    .getBytes(StandardCharsets.UTF_8), rng));
        };
    }

    private static boolean isUtf8(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}

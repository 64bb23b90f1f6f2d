package io.colo4j.zoo.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds GPT-2's vocab.json and merges.txt from the r50k_base ranks jtokkit bundles (the token with
 * rank r is the merge r - 256 of GPT-2's merges.txt; its two halves are recovered by running BPE on
 * its bytes with only lower ranks, as tiktoken's converters do). Lets the tests check our file-based
 * byte-level BPE against GPT-2's real tokenizer without network access.
 */
final class Gpt2FilesFromJtokkit {
    static final int MERGEABLE = 50256;

    private Gpt2FilesFromJtokkit() {}

    record Files2(Map<String, Integer> vocab, List<String[]> merges) {}

    static Files2 build() {
        Gpt2Tokenizer gpt2 = Gpt2Tokenizer.instance();
        byte[][] tokens = new byte[MERGEABLE][];
        Map<String, Integer> ranks = new HashMap<>(MERGEABLE * 2);
        for (int id = 0; id < MERGEABLE; id++) {
            tokens[id] = gpt2.tokenBytes(id);
            ranks.put(latin1(tokens[id]), id);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int id = 0; id < MERGEABLE; id++) {
            vocab.put(mapped(tokens[id]), id);
        }
        vocab.put(Gpt2Tokenizer.END_OF_TEXT_TOKEN, Gpt2Tokenizer.END_OF_TEXT);
        List<String[]> merges = new ArrayList<>();
        for (int id = 0; id < MERGEABLE; id++) {
            if (tokens[id].length < 2) {
                continue;
            }
            List<String> parts = new ArrayList<>();
            for (byte b : tokens[id]) {
                parts.add(latin1(new byte[] {b}));
            }
            while (true) {
                int best = -1;
                int bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < parts.size(); i++) {
                    Integer r = ranks.get(parts.get(i) + parts.get(i + 1));
                    if (r != null && r < bestRank) {
                        bestRank = r;
                        best = i;
                    }
                }
                if (best < 0 || bestRank >= id) {
                    break;
                }
                parts.set(best, parts.get(best) + parts.remove(best + 1));
            }
            if (parts.size() != 2) {
                throw new IllegalStateException("token " + id + " does not split into one merge: " + parts.size() + " parts");
            }
            merges.add(new String[] {mapped(parts.get(0).getBytes(StandardCharsets.ISO_8859_1)),
                mapped(parts.get(1).getBytes(StandardCharsets.ISO_8859_1))});
        }
        return new Files2(vocab, merges);
    }

    /** Writes vocab.json + merges.txt into {@code dir}. */
    static void writeVocabAndMerges(Files2 f, Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Files.write(dir.resolve("vocab.json"), json.writeValueAsBytes(f.vocab()));
        StringBuilder sb = new StringBuilder("#version: 0.2\n");
        for (String[] m : f.merges()) {
            sb.append(m[0]).append(' ').append(m[1]).append('\n');
        }
        Files.writeString(dir.resolve("merges.txt"), sb.toString(), StandardCharsets.UTF_8);
    }

    /** Writes an HF tokenizer.json; {@code pairMerges} uses the newer [a, b] merge format. */
    static void writeTokenizerJson(Files2 f, Path file, boolean pairMerges) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode eot = added.addObject();
        eot.put("id", Gpt2Tokenizer.END_OF_TEXT);
        eot.put("content", Gpt2Tokenizer.END_OF_TEXT_TOKEN);
        eot.put("special", true);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        f.vocab().forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        for (String[] m : f.merges()) {
            if (pairMerges) {
                merges.addArray().add(m[0]).add(m[1]);
            } else {
                merges.add(m[0] + " " + m[1]);
            }
        }
        Files.write(file, json.writeValueAsBytes(root));
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String mapped(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            sb.append(ByteLevelBpe.byteToChar(b & 0xFF));
        }
        return sb.toString();
    }
}

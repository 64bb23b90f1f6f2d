package io.colo4j.zoo.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.zoo.io.InputFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a tokenizer from what a user names: {@code byte} (the default), {@code gpt2} (GPT-2's BPE,
 * bundled), an HF {@code tokenizer.json}, a {@code vocab.json} (with {@code merges.txt} beside it or
 * named as a second path), or a folder holding either.
 */
public final class Tokenizers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Tokenizers() {}

    /** One spec: {@code byte}, {@code gpt2}, or a path. */
    public static Tokenizer load(String spec) throws IOException {
        return load(List.of(spec));
    }

    /** {@code byte}, {@code gpt2}, one path (tokenizer.json, vocab.json, a folder) or vocab.json + merges.txt. */
    public static Tokenizer load(List<String> specs) throws IOException {
        if (specs.isEmpty() || specs.size() == 1 && specs.get(0).equals("byte")) {
            return ByteTokenizer.INSTANCE;
        }
        if (specs.size() == 1 && specs.get(0).equals("gpt2")) {
            return Gpt2Tokenizer.instance();
        }
        if (specs.size() == 2) {
            Path a = Path.of(specs.get(0));
            Path b = Path.of(specs.get(1));
            boolean aIsMerges = a.getFileName().toString().endsWith(".txt");
            return fromVocabAndMerges(aIsMerges ? b : a, aIsMerges ? a : b);
        }
        if (specs.size() > 2) {
            throw new TokenizerException("tokenizer: give one of byte, gpt2, a tokenizer.json, a folder, or vocab.json + merges.txt; got " + specs);
        }
        Path p = Path.of(specs.get(0));
        if (Files.isDirectory(p)) {
            if (Files.isRegularFile(p.resolve("tokenizer.json"))) {
                return fromTokenizerJson(p.resolve("tokenizer.json"));
            }
            if (Files.isRegularFile(p.resolve("vocab.json")) && Files.isRegularFile(p.resolve("merges.txt"))) {
                return fromVocabAndMerges(p.resolve("vocab.json"), p.resolve("merges.txt"));
            }
            throw new TokenizerException("tokenizer: folder " + p + " holds neither tokenizer.json nor vocab.json + merges.txt");
        }
        if (!Files.isRegularFile(p)) {
            throw new TokenizerException("tokenizer: '" + p + "' is not byte, gpt2 or an existing file or folder");
        }
        JsonNode root = readJson(p);
        if (root.path("model").isObject()) { // a vocab.json may well hold the token "model", but not an object
            return fromTokenizerJson(p, root);
        }
        Path merges = p.resolveSibling("merges.txt");
        if (!Files.isRegularFile(merges)) {
            throw new TokenizerException("tokenizer: " + p + " looks like a vocab.json but there is no merges.txt beside it; "
                    + "name it as a second --tokenizer argument");
        }
        return fromVocabAndMerges(p, merges);
    }

    /** GPT-2 style {@code vocab.json} (token to id) and {@code merges.txt} (one "a b" pair per line). */
    public static ByteLevelBpe fromVocabAndMerges(Path vocabJson, Path mergesTxt) throws IOException {
        JsonNode vocabNode = readJson(vocabJson);
        Map<String, Integer> vocab = vocab(vocabJson, vocabNode);
        List<String[]> merges = new ArrayList<>();
        List<String> lines = InputFiles.readUtf8(mergesTxt, "merges file").lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 && line.startsWith("#version")) {
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            String[] pair = line.split(" ", -1);
            if (pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty()) {
                throw new TokenizerException(mergesTxt + ": line " + (i + 1) + " is not a merge 'a b': '" + line + "'");
            }
            merges.add(pair);
        }
        Map<String, Integer> special = new LinkedHashMap<>();
        if (vocab.containsKey(Gpt2Tokenizer.END_OF_TEXT_TOKEN)) {
            special.put(Gpt2Tokenizer.END_OF_TEXT_TOKEN, vocab.get(Gpt2Tokenizer.END_OF_TEXT_TOKEN));
        }
        return new ByteLevelBpe(vocabJson.toAbsolutePath() + " " + mergesTxt.toAbsolutePath(), vocab, merges, special);
    }

    /** An HF tokenizers {@code tokenizer.json} with a byte-level BPE model. */
    public static ByteLevelBpe fromTokenizerJson(Path file) throws IOException {
        return fromTokenizerJson(file, readJson(file));
    }

    private static ByteLevelBpe fromTokenizerJson(Path file, JsonNode root) {
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            throw new TokenizerException(file + ": no 'model' object");
        }
        if (model.has("type") && !"BPE".equals(model.get("type").asText())) {
            throw new TokenizerException(file + ": model type '" + model.get("type").asText() + "' is not BPE");
        }
        JsonNode pre = root.get("pre_tokenizer");
        if (pre != null && !pre.isNull() && !mentionsByteLevel(pre)) {
            throw new TokenizerException(file + ": the pre-tokenizer is not ByteLevel; only GPT-2 style byte-level BPE is supported");
        }
        Map<String, Integer> vocab = vocab(file, model.get("vocab"));
        JsonNode mergesNode = model.get("merges");
        if (mergesNode == null || !mergesNode.isArray()) {
            throw new TokenizerException(file + ": model.merges is missing or not an array");
        }
        List<String[]> merges = new ArrayList<>(mergesNode.size());
        for (int i = 0; i < mergesNode.size(); i++) {
            JsonNode m = mergesNode.get(i);
            String[] pair;
            if (m.isTextual()) {
                pair = m.asText().split(" ", -1);
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                pair = new String[] {m.get(0).asText(), m.get(1).asText()};
            } else {
                pair = new String[0];
            }
            if (pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty()) {
                throw new TokenizerException(file + ": merge " + (i + 1) + " is not a pair: " + m);
            }
            merges.add(pair);
        }
        Map<String, Integer> special = new LinkedHashMap<>();
        JsonNode added = root.get("added_tokens");
        if (added != null && added.isArray()) {
            for (JsonNode t : added) {
                if (t.hasNonNull("content") && t.hasNonNull("id") && t.get("id").canConvertToInt()) {
                    if (t.get("content").asText().isEmpty()) {
                        throw new TokenizerException(file + ": added token " + t.get("id") + " has empty content");
                    }
                    special.put(t.get("content").asText(), t.get("id").asInt());
                }
            }
        }
        return new ByteLevelBpe(file.toAbsolutePath().toString(), vocab, merges, special);
    }

    private static boolean mentionsByteLevel(JsonNode pre) {
        if ("ByteLevel".equals(pre.path("type").asText())) {
            return true;
        }
        for (JsonNode p : pre.path("pretokenizers")) {
            if (mentionsByteLevel(p)) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Integer> vocab(Path file, JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new TokenizerException(file + ": the vocabulary is not a JSON object of token -> id");
        }
        Map<String, Integer> vocab = new LinkedHashMap<>(node.size() * 2);
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber() || e.getValue().asInt() < 0) {
                throw new TokenizerException(file + ": token '" + e.getKey() + "' has id " + e.getValue() + ", not a non-negative int");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(InputFiles.readUtf8(file, "tokenizer file"));
        } catch (JacksonException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}

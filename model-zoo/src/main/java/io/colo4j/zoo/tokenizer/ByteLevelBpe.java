package io.colo4j.zoo.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's byte-level BPE, built from a vocabulary (token string to id, in GPT-2's byte-to-unicode
 * alphabet) and an ordered list of merges, as in {@code vocab.json} + {@code merges.txt} or an HF
 * {@code tokenizer.json}. Text is split with GPT-2's pre-tokenizer regex; each piece's UTF-8 bytes are
 * mapped to the printable alphabet and merged, lowest-ranked pair first, exactly as OpenAI's encoder.py.
 */
public final class ByteLevelBpe implements Tokenizer {
    /** GPT-2's pre-tokenizer; \s is Unicode whitespace as in Python's regex module. */
    static final Pattern PRETOKENIZE = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = byteToUnicode();
    private static final int CACHE_LIMIT = 1 << 16;

    private final String spec;
    private final Map<String, Integer> encoder;
    private final String[] decoder;
    private final Map<String, Integer> mergeRanks;
    private final Map<String, Integer> special;
    private final List<String> specialByLength;
    private final int vocabSize;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab   token (in the byte-to-unicode alphabet) to id
     * @param merges  pairs in priority order (index = rank)
     * @param special literal special tokens (e.g. {@code <|endoftext|>}) to their ids; may overlap vocab
     */
    public ByteLevelBpe(String spec, Map<String, Integer> vocab, List<String[]> merges, Map<String, Integer> special) {
        this.spec = spec;
        this.encoder = Map.copyOf(vocab);
        this.special = Map.copyOf(special);
        int max = -1;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0) {
                throw new TokenizerException(spec + ": token '" + e.getKey() + "' has a negative or missing id");
            }
            max = Math.max(max, e.getValue());
        }
        for (Map.Entry<String, Integer> e : special.entrySet()) {
            if (e.getValue() < 0) {
                throw new TokenizerException(spec + ": special token '" + e.getKey() + "' has a negative id");
            }
            if (e.getKey().isEmpty()) { // it would match everywhere and encode() would never advance
                throw new TokenizerException(spec + ": special token " + e.getValue() + " is empty");
            }
            max = Math.max(max, e.getValue());
        }
        if (max >= 10_000_000) {
            throw new TokenizerException(spec + ": id " + max + " is implausibly large for a vocabulary");
        }
        this.vocabSize = max + 1;
        this.decoder = new String[vocabSize];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String previous = decoder[e.getValue()];
            if (previous != null) {
                throw new TokenizerException(spec + ": tokens '" + previous + "' and '" + e.getKey() + "' share id " + e.getValue());
            }
            decoder[e.getValue()] = e.getKey();
        }
        for (Map.Entry<String, Integer> e : special.entrySet()) {
            String previous = decoder[e.getValue()];
            if (previous != null && !previous.equals(e.getKey())) {
                throw new TokenizerException(spec + ": special token '" + e.getKey() + "' reuses the id of '" + previous + "'");
            }
            decoder[e.getValue()] = e.getKey();
        }
        for (int b = 0; b < 256; b++) {
            if (!vocab.containsKey(String.valueOf(BYTE_TO_CHAR[b]))) {
                throw new TokenizerException(spec + ": the vocabulary lacks the byte-level token for byte " + b
                        + " ('" + BYTE_TO_CHAR[b] + "'): not a byte-level BPE vocabulary");
            }
        }
        Map<String, Integer> ranks = new HashMap<>(merges.size() * 2);
        for (int i = 0; i < merges.size(); i++) {
            String[] pair = merges.get(i);
            if (!vocab.containsKey(pair[0]) || !vocab.containsKey(pair[1]) || !vocab.containsKey(pair[0] + pair[1])) {
                throw new TokenizerException(spec + ": merge " + (i + 1) + " '" + pair[0] + " " + pair[1]
                        + "' uses or makes a token that is not in the vocabulary");
            }
            ranks.putIfAbsent(pair[0] + ' ' + pair[1], i);
        }
        this.mergeRanks = ranks;
        List<String> specials = new ArrayList<>(special.keySet());
        specials.sort((a, b) -> Integer.compare(b.length(), a.length()));
        this.specialByLength = List.copyOf(specials);
    }

    @Override
    public String spec() {
        return spec;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    /** Special tokens by their literal text. */
    public Map<String, Integer> specialTokens() {
        return special;
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 16);
        int start = 0;
        while (start < text.length()) {
            int bestAt = -1;
            String best = null;
            for (String s : specialByLength) {
                int at = text.indexOf(s, start);
                if (at >= 0 && (bestAt < 0 || at < bestAt)) {
                    bestAt = at;
                    best = s;
                }
            }
            int end = bestAt < 0 ? text.length() : bestAt;
            encodeOrdinary(text.substring(start, end), out);
            if (best == null) {
                break;
            }
            out.add(special.get(best));
            start = bestAt + best.length();
        }
        return out.toArray();
    }

    @Override
    public int streamingCut(CharSequence text) {
        return wordCut(text, specialByLength);
    }

    /**
     * The last space between two letters that no special token's occurrence spans: GPT-2's pre-tokenizer ends a
     * piece at the letter before such a space (no alternative takes a letter and then a space) and starts the next
     * with it ({@code " ?\p{L}+"}), so the pieces, hence the ids, on either side are those of the whole text.
     */
    static int wordCut(CharSequence text, List<String> specials) {
        String whole = text.toString();
        for (int i = whole.length() - 2; i >= 1; i--) {
            if (whole.charAt(i) == ' ' && Character.isLetter(whole.charAt(i - 1)) && Character.isLetter(whole.charAt(i + 1))
                    && !spanned(whole, i, specials)) {
                return i;
            }
        }
        return 0;
    }

    /** Whether an occurrence of a special token starts before {@code at} and ends after it. */
    private static boolean spanned(String text, int at, List<String> specials) {
        for (String s : specials) {
            for (int start = Math.max(0, at - s.length() + 1); start < at; start++) {
                if (text.startsWith(s, start)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Ids for {@code text}, treating special-token text as ordinary text. */
    public int[] encodeOrdinary(String text) {
        IntList out = new IntList(text.length() / 3 + 16);
        encodeOrdinary(text, out);
        return out.toArray();
    }

    private void encodeOrdinary(String text, IntList out) {
        Matcher m = PRETOKENIZE.matcher(text);
        while (m.find()) {
            String piece = m.group();
            int[] ids = cache.get(piece);
            if (ids == null) {
                ids = bpe(piece);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(piece, ids);
            }
            out.addAll(ids);
        }
    }

    private int[] bpe(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        List<String> symbols = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            symbols.add(String.valueOf(BYTE_TO_CHAR[b & 0xFF]));
        }
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = mergeRanks.get(symbols.get(i) + ' ' + symbols.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = encoder.get(symbols.get(i));
            if (id == null) {
                throw new TokenizerException(spec + ": BPE produced '" + symbols.get(i) + "', which is not in the vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            String token = id >= 0 && id < decoder.length ? decoder[id] : null;
            if (token == null) {
                throw new TokenizerException(spec + ": unknown id " + id + " at position " + i);
            }
            if (special.containsKey(token)) {
                bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
                continue;
            }
            for (int c = 0; c < token.length(); c++) {
                int b = CHAR_TO_BYTE.getOrDefault(token.charAt(c), -1);
                if (b < 0) {
                    bytes.writeBytes(String.valueOf(token.charAt(c)).getBytes(StandardCharsets.UTF_8));
                } else {
                    bytes.write(b);
                }
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The byte-to-unicode alphabet of GPT-2's encoder.py: printable bytes map to themselves, the rest to 256+. */
    public static char byteToChar(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The byte a character of the alphabet stands for, or -1. */
    public static int charToByte(char c) {
        return CHAR_TO_BYTE.getOrDefault(c, -1);
    }

    private static final Map<Character, Integer> CHAR_TO_BYTE = inverse();

    private static char[] byteToUnicode() {
        char[] map = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            printable[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable[b] = true;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            map[b] = printable[b] ? (char) b : (char) (256 + n++);
        }
        return map;
    }

    private static Map<Character, Integer> inverse() {
        Map<Character, Integer> m = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            m.put(BYTE_TO_CHAR[b], b);
        }
        return Map.copyOf(m);
    }

    @Override
    public String toString() {
        return "ByteLevelBpe[" + spec + ", " + vocabSize + " ids, " + mergeRanks.size() + " merges]";
    }

    /** A growable int array. */
    static final class IntList {
        private int[] data;
        private int size;

        IntList(int capacity) {
            data = new int[Math.max(capacity, 4)];
        }

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, data.length * 2);
            }
            data[size++] = v;
        }

        void addAll(int[] vs) {
            if (size + vs.length > data.length) {
                data = Arrays.copyOf(data, Math.max(data.length * 2, size + vs.length));
            }
            System.arraycopy(vs, 0, data, size, vs.length);
            size += vs.length;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}

package io.colo4j.zoo.tokenizer;

import java.nio.charset.StandardCharsets;

/** The UTF-8 bytes of the text as ids 0..255: no files, no unknown tokens; the default. */
public final class ByteTokenizer implements Tokenizer {
    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private ByteTokenizer() {}

    @Override
    public String spec() {
        return "byte";
    }

    @Override
    public int vocabSize() {
        return 256;
    }

    @Override
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }

    /** Anywhere but inside a surrogate pair: each character's bytes are its own ids. */
    @Override
    public int streamingCut(CharSequence text) {
        int n = text.length();
        return n > 0 && Character.isHighSurrogate(text.charAt(n - 1)) ? n - 1 : n;
    }

    @Override
    public String decode(int[] ids) {
        byte[] bytes = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] > 255) {
                throw new TokenizerException("byte tokenizer: id " + ids[i] + " at position " + i + " is not a byte (0..255)");
            }
            bytes[i] = (byte) ids[i];
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ByteTokenizer";
    }
}

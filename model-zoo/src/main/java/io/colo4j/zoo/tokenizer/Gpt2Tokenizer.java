package io.colo4j.zoo.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/**
 * GPT-2's own BPE (OpenAI's r50k_base, 50257 ids, {@code <|endoftext|>} = 50256) as bundled by jtokkit:
 * the tokenizer to use when no vocab/merges files are given. {@code <|endoftext|>} written in the text
 * encodes to its id, as HF's GPT2Tokenizer does.
 */
public final class Gpt2Tokenizer implements Tokenizer {
    public static final int END_OF_TEXT = 50256;
    public static final String END_OF_TEXT_TOKEN = "<|endoftext|>";

    private static final class Holder {
        static final Gpt2Tokenizer INSTANCE = new Gpt2Tokenizer(
                Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE));
    }

    private final Encoding encoding;

    private Gpt2Tokenizer(Encoding encoding) {
        this.encoding = encoding;
    }

    public static Gpt2Tokenizer instance() {
        return Holder.INSTANCE;
    }

    @Override
    public String spec() {
        return "gpt2";
    }

    @Override
    public int vocabSize() {
        return END_OF_TEXT + 1;
    }

    @Override
    public int[] encode(String text) {
        ByteLevelBpe.IntList out = new ByteLevelBpe.IntList(text.length() / 3 + 16);
        int start = 0;
        while (true) {
            int at = text.indexOf(END_OF_TEXT_TOKEN, start);
            String ordinary = text.substring(start, at < 0 ? text.length() : at);
            if (!ordinary.isEmpty()) {
                out.addAll(encoding.encodeOrdinary(ordinary).toArray());
            }
            if (at < 0) {
                return out.toArray();
            }
            out.add(END_OF_TEXT);
            start = at + END_OF_TEXT_TOKEN.length();
        }
    }

    /** r50k_base splits text with GPT-2's pre-tokenizer, as {@link ByteLevelBpe}. */
    @Override
    public int streamingCut(CharSequence text) {
        return ByteLevelBpe.wordCut(text, java.util.List.of(END_OF_TEXT_TOKEN));
    }

    /** The raw bytes token {@code id} stands for (for {@link #END_OF_TEXT}, its literal text). */
    public byte[] tokenBytes(int id) {
        IntArrayList one = new IntArrayList(1);
        one.add(id);
        return encoding.decodeBytes(one);
    }

    @Override
    public String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] > END_OF_TEXT) {
                throw new TokenizerException("gpt2 tokenizer: unknown id " + ids[i] + " at position " + i);
            }
            list.add(ids[i]);
        }
        return encoding.decode(list);
    }

    @Override
    public String toString() {
        return "Gpt2Tokenizer[r50k_base]";
    }
}

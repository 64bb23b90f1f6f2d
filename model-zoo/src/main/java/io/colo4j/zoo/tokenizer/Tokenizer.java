package io.colo4j.zoo.tokenizer;

/** Text to token ids and back. Implementations are immutable and thread-safe. */
public interface Tokenizer {
    /** A short description that {@link Tokenizers#load} understands again (e.g. {@code byte}, {@code gpt2}, a path). */
    String spec();

    /** One more than the largest id this tokenizer can produce: the smallest vocabulary a model needs. */
    int vocabSize();

    /** Ids for {@code text}; special tokens written literally in the text (e.g. {@code <|endoftext|>}) map to their ids. */
    int[] encode(String text);

    /**
     * Where a long text may be cut to be tokenised piece by piece ({@code TokenCache}): the largest n, at most
     * {@code text.length()}, such that the ids of {@code text[0, n)} followed by those of everything after n are the
     * ids of the whole, whatever follows {@code text}; 0 when this tokenizer knows no such place in it.
     */
    default int streamingCut(CharSequence text) {
        return 0;
    }

    /** Text for {@code ids}; byte sequences that are not valid UTF-8 decode to U+FFFD. */
    String decode(int[] ids);
}

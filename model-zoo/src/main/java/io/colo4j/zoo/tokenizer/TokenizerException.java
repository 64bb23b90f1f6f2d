package io.colo4j.zoo.tokenizer;

/** A tokenizer file that cannot be used, or an id a tokenizer does not know. */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}

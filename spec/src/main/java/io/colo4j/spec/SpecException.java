package io.colo4j.spec;

/** A spec, process group or placement that cannot be honoured; the message names the culprit. */
public final class SpecException extends IllegalArgumentException {
    public SpecException(String message) {
        super(message);
    }

    public SpecException(String message, Throwable cause) {
        super(message, cause);
    }
}

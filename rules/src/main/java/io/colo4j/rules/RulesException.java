package io.colo4j.rules;

/**
 * A rules file that cannot be read (malformed JSON, an unknown key or spec name, a bad pattern), or
 * rules that cannot be applied to a model. Where the problem is in the file, the message starts with
 * {@code file:line:column:} and {@link #location()} says the same.
 */
public final class RulesException extends IllegalArgumentException {
    private final transient Location location;

    public RulesException(String message) {
        super(message);
        this.location = null;
    }

    public RulesException(Location location, String message) {
        this(location, message, null);
    }

    public RulesException(Location location, String message, Throwable cause) {
        super(location + ": " + message, cause);
        this.location = location;
    }

    /** Where in the rules file the problem is; null when it is not about one place in a file. */
    public Location location() {
        return location;
    }
}

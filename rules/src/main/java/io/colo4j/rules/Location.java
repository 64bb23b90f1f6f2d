package io.colo4j.rules;

/**
 * A place in a rules file: its source (a path, or {@code classpath:...}), 1-based line and column.
 * Prints as {@code source:line:column}, the form compilers and editors understand.
 */
public record Location(String source, int line, int column) {
    /** For rules built in code rather than read from a file. */
    public static Location unknown(String source) {
        return new Location(source, -1, -1);
    }

    public boolean known() {
        return line > 0;
    }

    /** The same line, {@code chars} columns further right (inside a string value, for a bad pattern). */
    public Location plusColumns(int chars) {
        return known() ? new Location(source, line, column + chars) : this;
    }

    @Override
    public String toString() {
        return known() ? source + ":" + line + ":" + column : source;
    }
}

package io.colo4j.rules;

/**
 * A string that lets a regex read at most {@code budget} characters, then throws {@link Exhausted}: a user
 * regex that backtracks catastrophically ({@code (\w+\.?)+x}) on a module path stops within milliseconds
 * instead of running for minutes. Module paths are short, so an honest match reads a few thousand at most.
 */
final class BoundedChars implements CharSequence {
    /** The budget ran out. */
    static final class Exhausted extends RuntimeException {
        Exhausted() {
            super(null, null, false, false);
        }
    }

    private final String text;
    private long left;

    BoundedChars(String text, long budget) {
        this.text = text;
        this.left = budget;
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public char charAt(int index) {
        if (--left < 0) {
            throw new Exhausted();
        }
        return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return text.substring(start, end);
    }

    @Override
    public String toString() {
        return text;
    }
}

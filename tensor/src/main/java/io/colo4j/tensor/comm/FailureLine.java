package io.colo4j.tensor.comm;

import java.util.List;
import java.util.Objects;

/**
 * A failure as the one line a user reads: "rank 1 of 2: <message>" for a rank's failure, the message alone for
 * the checks' own exceptions (their message already names the culprit, the class name only adds noise), and the
 * class kept for what can only be a bug (a NullPointerException says nothing without it), with a hint where the
 * trace is. Wrappers that add nothing (an exception whose message is its cause's {@code toString()}) are skipped.
 */
public final class FailureLine {
    /** The system property that makes the CLI print the trace too. */
    public static final String TRACE_PROPERTY = "colo4j.trace";

    /** Exceptions no check throws on purpose: the code crashed rather than refused. */
    private static final List<Class<? extends Throwable>> BUGS = List.of(NullPointerException.class,
            IndexOutOfBoundsException.class, ClassCastException.class, ArithmeticException.class,
            NegativeArraySizeException.class, ArrayStoreException.class, java.util.ConcurrentModificationException.class,
            UnsupportedOperationException.class, java.util.NoSuchElementException.class, IllegalMonitorStateException.class);

    private FailureLine() {}

    /** One line for {@code failure}, without the program's name. */
    public static String of(Throwable failure) {
        StringBuilder line = new StringBuilder();
        Throwable t = failure;
        while (true) {
            if (t instanceof RankFailedException rank && rank.getCause() != null) {
                line.append("rank ").append(rank.rank()).append(" of ").append(rank.worldSize()).append(": ");
                t = rank.getCause();
            } else if (t.getCause() != null && t.getCause() != t && Objects.equals(t.getMessage(), t.getCause().toString())) {
                t = t.getCause();
            } else {
                break;
            }
        }
        String message = t.getMessage();
        if (isBug(t)) {
            line.append(t).append(" (a bug; rerun with COLO4J_JAVA_OPTS=-D").append(TRACE_PROPERTY).append("=true for the trace)");
        } else {
            line.append(message == null || message.isBlank() ? t.toString() : message);
        }
        return line.toString();
    }

    /** Whether {@code t} is what a crash throws (an Error other than running out of memory, or one of {@link #BUGS}). */
    public static boolean isBug(Throwable t) {
        if (t instanceof Error) {
            return !(t instanceof OutOfMemoryError);
        }
        return BUGS.stream().anyMatch(bug -> bug.isInstance(t));
    }

    /** Whether the user asked for traces ({@code -Dcolo4j.trace=true}). */
    public static boolean traceWanted() {
        return Boolean.getBoolean(TRACE_PROPERTY);
    }
}

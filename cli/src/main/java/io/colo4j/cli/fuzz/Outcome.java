package io.colo4j.cli.fuzz;

import io.colo4j.tensor.comm.FailureLine;
import java.util.List;
import java.util.Locale;

/** What a command did with one input; every outcome but a clean refusal and a right acceptance is a failure. */
public enum Outcome {
    /** Exit non-zero with a message naming the culprit, no stack trace. */
    REFUSED(false),
    /** Exit 0 on an input that may be valid. */
    ACCEPTED(false),
    /** Still running after the per-input timeout. */
    HANG(true),
    /** An OutOfMemoryError, even one the CLI turned into a line. */
    OOM(true),
    /** A stack trace in the output, or an exception type no check throws (a crash rather than a refusal). */
    TRACE(true),
    /** Exit 0 on an input the generator knows is invalid. */
    SILENT(true),
    /** A valid input refused. */
    REFUSED_VALID(true),
    /** A refusal whose message does not name the file, field, rule or option at fault. */
    UNNAMED(true);

    private final boolean failure;

    Outcome(boolean failure) {
        this.failure = failure;
    }

    public boolean failure() {
        return failure;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** What one run did. {@code exit} is -1 when a Throwable escaped picocli; {@code thrown} the exception the command threw, if any. */
    public record Run(int exit, String out, String err, Throwable thrown, boolean timedOut) {
        /** The line a user reads: picocli's first line for a usage error (exit 2), else the last line of stderr, else stdout. */
        public String message() {
            List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
            if (lines.isEmpty()) {
                return out;
            }
            return exit == 2 ? lines.get(0) : lines.get(lines.size() - 1);
        }
    }

    public static Outcome of(Expect expect, Run run, HostileInput.Invocation invocation) {
        if (run.timedOut()) {
            return HANG;
        }
        if (inChain(run.thrown(), OutOfMemoryError.class) || run.err().contains("out of memory (")) {
            return OOM;
        }
        if (crashed(run.thrown()) || hasTrace(run.out()) || hasTrace(run.err())) {
            return TRACE;
        }
        if (run.exit() == 0) {
            return expect == Expect.INVALID ? SILENT : ACCEPTED;
        }
        if (expect == Expect.VALID) {
            return REFUSED_VALID;
        }
        return invocation.named(run.message()) ? REFUSED : UNNAMED;
    }

    private static boolean hasTrace(String text) {
        return text.contains("\tat ") || text.contains("Caused by: ") || text.contains("Exception in thread");
    }

    /** A crash anywhere in the chain ({@link FailureLine#isBug}): a bug however clean the line. */
    private static boolean crashed(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (FailureLine.isBug(c)) {
                return true; // StackOverflowError, AssertionError, NullPointerException...
            }
        }
        return false;
    }

    private static boolean inChain(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}

package io.colo4j.tensor;

import java.io.PrintStream;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * A warning the user must see (rules that left parameters replicated, an op gathered to replicate). Through
 * SLF4J when a provider is bound; with none (SLF4J falls back to its no-operation logger, e.g. a program that
 * depends on the model zoo alone) it goes to System.err instead, since a dropped warning is a silent outcome.
 * Callers say each warning once.
 */
public final class UserWarnings {
    private UserWarnings() {}

    /** Warns as {@code from}'s logger. */
    public static void warn(Class<?> from, String message) {
        warn(from, message, LoggerFactory.getILoggerFactory(), System.err);
    }

    /** {@code factory}: SLF4J's bound logger factory ({@link NOPLoggerFactory} when no provider is on the class path). */
    static void warn(Class<?> from, String message, ILoggerFactory factory, PrintStream fallback) {
        if (factory instanceof NOPLoggerFactory) {
            fallback.println("WARN " + from.getName() + " - " + message);
            fallback.flush();
        } else {
            factory.getLogger(from.getName()).warn(message);
        }
    }
}

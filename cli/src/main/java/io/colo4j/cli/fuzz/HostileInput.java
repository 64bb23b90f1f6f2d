package io.colo4j.cli.fuzz;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One generated input: its class, its index in that class's corpus, what it is, what it must give, and how to
 * lay it out. Files are written only when it is fed ({@link Prepare}), into a folder of its own.
 */
public record HostileInput(InputClass inputClass, int index, String label, Expect expect, Prepare prepare) {
    /** Writes the input's files into {@code dir} and says how the CLI is called on them. */
    @FunctionalInterface
    public interface Prepare {
        Invocation in(Path dir) throws IOException;
    }

    /** The command line, and the texts of which a refusal must contain one to name the culprit (a file, a folder, a rule, an option). */
    public record Invocation(List<String> culprits, List<String> args) {
        public static Invocation of(Object culprit, Object... args) {
            return anyOf(List.of(culprit), args);
        }

        public static Invocation anyOf(List<?> culprits, Object... args) {
            return new Invocation(culprits.stream().map(Object::toString).toList(), java.util.Arrays.stream(args).map(Object::toString).toList());
        }

        /** Whether {@code message} names the culprit. */
        public boolean named(String message) {
            return culprits.stream().anyMatch(message::contains);
        }
    }

    @Override
    public String toString() {
        return inputClass.label() + " #" + index + " (" + label + ", " + expect.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }
}

package io.colo4j.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What a rule matches: whole dotted module paths (the names {@link io.colo4j.tensor.nn.Module#namedModules()}
 * gives, e.g. {@code transformer.h.0.mlp.c_fc}), anchored at the model root. Never a substring: the
 * pattern must account for every segment of the path, so {@code c_proj} matches only a top-level
 * module called {@code c_proj}, and {@code transformer.h.*.attn.c_proj} never matches an
 * {@code mlp.c_proj}.
 *
 * <p>Globs: segments separated by {@code .}. A segment is
 * <ul>
 *   <li>{@code **}: any number of whole segments, including none;</li>
 *   <li>{@code *}: exactly one segment, whatever it is;</li>
 *   <li>otherwise a segment pattern of letters, digits, {@code _} and {@code -}, in which {@code *}
 *       stands for any characters inside the segment ({@code ln_*} matches {@code ln_1} and
 *       {@code ln_f}, never {@code ln_1.x}) and {@code {a,b}} for one of the alternatives
 *       ({@code {attn,mlp}}).</li>
 * </ul>
 * The root module's path is empty; only {@code **} matches it.
 *
 * <p>Regexes ({@code "regex"} in a rules file) are Java regexes matched against the whole path, as if
 * wrapped in {@code ^...$}: for the rare case a glob cannot say, e.g. {@code transformer\.h\.(0|1[0-1])\.mlp\.c_fc}.
 * A regex gets a budget of {@link Regex#MATCH_BUDGET} character reads per path: one that backtracks
 * catastrophically is refused (a {@link PatternException}) instead of running for minutes.
 */
public sealed interface ModulePattern permits ModulePattern.Glob, ModulePattern.Regex {

    /** The pattern as written. */
    String text();

    /** Whether the whole module path matches. */
    boolean matches(String modulePath);

    /** A glob; throws {@link PatternException} (with the offending character's index) when malformed. */
    static Glob glob(String text) {
        return Glob.compile(text);
    }

    /** An anchored regex; throws {@link PatternException} when malformed. */
    static Regex regex(String text) {
        if (text == null || text.isEmpty()) {
            throw new PatternException("regex is empty", 0);
        }
        try {
            return new Regex(text, Pattern.compile(text));
        } catch (PatternSyntaxException e) {
            throw new PatternException("bad regex '" + text + "': " + e.getDescription()
                    + (e.getIndex() >= 0 ? " at character " + e.getIndex() : ""), Math.max(e.getIndex(), 0));
        }
    }

    /** A malformed pattern: {@link #index()} is the offending character's position in the pattern text. */
    final class PatternException extends IllegalArgumentException {
        private final int index;

        public PatternException(String message, int index) {
            super(message);
            this.index = index;
        }

        public int index() {
            return index;
        }
    }

    /** A dotted glob of whole segments; see {@link ModulePattern}. */
    record Glob(String text, List<Segment> segments) implements ModulePattern {
        public Glob {
            segments = List.copyOf(segments);
        }

        /** One segment: {@code **} (any number of segments) or a pattern one segment must match whole. */
        public record Segment(String text, boolean anySegments, Pattern pattern) {
            boolean matches(String pathSegment) {
                return pattern.matcher(pathSegment).matches();
            }
        }

        static Glob compile(String text) {
            if (text == null || text.isEmpty()) {
                throw new PatternException("glob is empty (the root module is matched by '**')", 0);
            }
            List<Segment> segments = new ArrayList<>();
            int start = 0;
            while (true) {
                int dot = text.indexOf('.', start);
                int end = dot < 0 ? text.length() : dot;
                segments.add(segment(text, start, end));
                if (dot < 0) {
                    break;
                }
                start = dot + 1;
            }
            return new Glob(text, segments);
        }

        private static Segment segment(String text, int start, int end) {
            String seg = text.substring(start, end);
            if (seg.isEmpty()) {
                throw new PatternException("bad glob '" + text + "': empty segment at character " + start
                        + " (segments are separated by single dots)", start);
            }
            if (seg.equals("**")) {
                return new Segment(seg, true, null);
            }
            StringBuilder regex = new StringBuilder();
            boolean inAlternatives = false;
            int alternativeStart = -1;
            for (int i = start; i < end; i++) {
                char c = text.charAt(i);
                if (c == '*') {
                    if (inAlternatives) {
                        throw bad(text, i, "'*' inside {...}");
                    }
                    if (i + 1 < end && text.charAt(i + 1) == '*') {
                        throw bad(text, i, "'**' must be a whole segment");
                    }
                    regex.append("[^.]*");
                } else if (c == '{') {
                    if (inAlternatives) {
                        throw bad(text, i, "nested '{'");
                    }
                    inAlternatives = true;
                    alternativeStart = i;
                    regex.append("(?:");
                } else if (c == '}' || c == ',') {
                    if (!inAlternatives) {
                        throw bad(text, i, "'" + c + "' outside {...}");
                    }
                    char before = text.charAt(i - 1);
                    if (before == '{' || before == ',') {
                        throw bad(text, i, "empty alternative");
                    }
                    if (c == '}') {
                        inAlternatives = false;
                        regex.append(')');
                    } else {
                        regex.append('|');
                    }
                } else if (Character.isLetterOrDigit(c) || c == '_' || c == '-') {
                    regex.append(c == '-' ? "\\-" : String.valueOf(c));
                } else {
                    throw bad(text, i, "character '" + c + "' (module names are letters, digits, '_' and '-';"
                            + " wildcards '*' and '**'; alternatives {a,b}; use \"regex\" for anything else)");
                }
            }
            if (inAlternatives) {
                throw bad(text, alternativeStart, "unclosed '{'");
            }
            return new Segment(seg, false, Pattern.compile(regex.toString()));
        }

        private static PatternException bad(String text, int index, String what) {
            return new PatternException("bad glob '" + text + "': " + what + " at character " + index, index);
        }

        @Override
        public boolean matches(String modulePath) {
            String[] path = modulePath.isEmpty() ? new String[0] : modulePath.split("\\.", -1);
            return match(0, path, 0, new Boolean[segments.size() + 1][path.length + 1]);
        }

        private boolean match(int g, String[] path, int p, Boolean[][] memo) {
            if (memo[g][p] != null) {
                return memo[g][p];
            }
            boolean result;
            if (g == segments.size()) {
                result = p == path.length;
            } else if (segments.get(g).anySegments()) {
                result = match(g + 1, path, p, memo) || (p < path.length && match(g, path, p + 1, memo));
            } else {
                result = p < path.length && segments.get(g).matches(path[p]) && match(g + 1, path, p + 1, memo);
            }
            memo[g][p] = result;
            return result;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** A Java regex that must match the whole module path. */
    record Regex(String text, Pattern pattern) implements ModulePattern {
        /** Character reads one path may take; a sane regex on a path of a hundred characters needs a few thousand. */
        public static final long MATCH_BUDGET = 1_000_000;

        @Override
        public boolean matches(String modulePath) {
            try {
                return pattern.matcher(new BoundedChars(modulePath, MATCH_BUDGET)).matches();
            } catch (BoundedChars.Exhausted e) {
                throw new PatternException("regex '" + text + "' gave up on module path '" + modulePath + "' after "
                        + MATCH_BUDGET + " character reads: it backtracks catastrophically (nested quantifiers such as (a+)+);"
                        + " rewrite it or use a glob", 0);
            }
        }

        @Override
        public String toString() {
            return "regex:" + text;
        }
    }
}

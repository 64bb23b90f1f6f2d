package io.colo4j.zoo.hf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How one family's HF checkpoint keys map onto its parameter names, as data the one planner
 * ({@link HfCheckpoint}) reads: the prefix a bare export lacks, old names that mean new ones, buffers
 * to skip, tied copies of a parameter, parameters HF stores in parts, and parameters a file may lack.
 * Patterns match whole canonical names (after renaming and prefixing). Built once per family in a
 * static initialiser; read-only afterwards.
 */
public final class KeyMap {
    /** A file tensor that is a copy of {@code target} (a tied head): shaped like it, skipped, or standing in when target is absent. */
    public record Tied(Pattern file, String target, boolean standsIn, String note) {}

    /** A parameter ending in {@code suffix} that HF stores as {@code parts} (same prefix), concatenated along dim 0. */
    public record Fused(String suffix, List<String> parts) {}

    private final String prefix;
    private final List<String> roots;
    private final Map<String, String> renamedSuffixes = new LinkedHashMap<>();
    private final List<Pattern> ignored = new ArrayList<>();
    private final List<Tied> tied = new ArrayList<>();
    private final List<Fused> fused = new ArrayList<>();
    private final List<Pattern> optional = new ArrayList<>();
    private final Map<String, String> missingNotes = new LinkedHashMap<>();

    private KeyMap(String prefix, List<String> roots) {
        this.prefix = prefix;
        this.roots = List.copyOf(roots);
    }

    /** File keys are parameter names as they are. */
    public static KeyMap exact() {
        return new KeyMap("", List.of());
    }

    /**
     * A file key not starting with one of {@code roots} gets {@code prefix} (a bare export of the base
     * model: {@code h.0...} for {@code transformer.h.0...}); saving writes the full names.
     */
    public static KeyMap prefixed(String prefix, String... roots) {
        List<String> all = new ArrayList<>(List.of(prefix));
        all.addAll(List.of(roots));
        return new KeyMap(prefix, all);
    }

    /** A key ending in {@code old} means the same key ending in {@code now} (e.g. TF's LayerNorm.gamma). */
    public KeyMap rename(String old, String now) {
        renamedSuffixes.put(old, now);
        return this;
    }

    /** Buffers and heads the model does not have: skipped. */
    public KeyMap ignore(String regex) {
        ignored.add(Pattern.compile(regex));
        return this;
    }

    /** Copies of {@code target} that must be shaped like it and are otherwise skipped. */
    public KeyMap tied(String regex, String target, String note) {
        tied.add(new Tied(Pattern.compile(regex), target, false, note));
        return this;
    }

    /** As {@link #tied}, and the first such copy is read into {@code target} when the file lacks it. */
    public KeyMap tiedStandIn(String regex, String target, String note) {
        tied.add(new Tied(Pattern.compile(regex), target, true, note));
        return this;
    }

    /** Parameters ending in {@code suffix} are stored as {@code parts}. */
    public KeyMap fused(String suffix, String... parts) {
        fused.add(new Fused(suffix, List.of(parts)));
        return this;
    }

    /** Parameters a file may lack (they keep their initial values) and file tensors a model without them skips. */
    public KeyMap optional(String regex) {
        optional.add(Pattern.compile(regex));
        return this;
    }

    /** Said after the missing tensors when {@code name} is one of them. */
    public KeyMap whenMissing(String name, String note) {
        missingNotes.put(name, note);
        return this;
    }

    /** The parameter name file key {@code name} stands for. */
    public String canonical(String name) {
        String n = name;
        for (Map.Entry<String, String> r : renamedSuffixes.entrySet()) {
            if (n.endsWith(r.getKey())) {
                n = n.substring(0, n.length() - r.getKey().length()) + r.getValue();
                break;
            }
        }
        if (!prefix.isEmpty() && roots.stream().noneMatch(n::startsWith)) {
            n = prefix + n;
        }
        return n;
    }

    /** The file keys parameter {@code name} is saved under (its parts when HF stores it in parts). */
    public List<String> fileNames(String name) {
        for (Fused f : fused) {
            if (name.endsWith(f.suffix())) {
                String stem = name.substring(0, name.length() - f.suffix().length());
                return f.parts().stream().map(p -> stem + p).toList();
            }
        }
        return List.of(name);
    }

    /** {@code name} without the prefix a bare export lacks. */
    public String bare(String name) {
        return !prefix.isEmpty() && name.startsWith(prefix) ? name.substring(prefix.length()) : name;
    }

    boolean isIgnored(String key) {
        return ignored.stream().anyMatch(p -> p.matcher(key).matches());
    }

    boolean isOptional(String key) {
        return optional.stream().anyMatch(p -> p.matcher(key).matches());
    }

    Tied tiedFor(String key) {
        return tied.stream().filter(t -> t.file().matcher(key).matches()).findFirst().orElse(null);
    }

    List<Fused> fused() {
        return fused;
    }

    Map<String, String> missingNotes() {
        return missingNotes;
    }
}

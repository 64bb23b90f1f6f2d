package io.colo4j.cli.fuzz;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Counts per input class and outcome, and the failures in the order they came. */
public final class FuzzReport {
    private final Map<InputClass, EnumMap<Outcome, Integer>> counts = new LinkedHashMap<>();
    private final List<FuzzRunner.Finding> failures = new ArrayList<>();
    private int inputs;

    void add(FuzzRunner.Finding f) {
        counts.computeIfAbsent(f.input().inputClass(), c -> new EnumMap<>(Outcome.class)).merge(f.outcome(), 1, Integer::sum);
        inputs++;
        if (f.outcome().failure()) {
            failures.add(f);
        }
    }

    public int inputs() {
        return inputs;
    }

    public List<FuzzRunner.Finding> failures() {
        return List.copyOf(failures);
    }

    public int count(InputClass c, Outcome o) {
        return counts.getOrDefault(c, new EnumMap<>(Outcome.class)).getOrDefault(o, 0);
    }

    /** The table (a row per class and a total, a column per outcome), then the first {@code show} failures in full. */
    public void print(PrintStream out, int show) {
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-12s %7s", "class", "inputs"));
        for (Outcome o : Outcome.values()) {
            header.append(String.format(Locale.ROOT, " %" + width(o) + "s", o.label()));
        }
        out.println(header);
        EnumMap<Outcome, Integer> total = new EnumMap<>(Outcome.class);
        counts.forEach((c, row) -> {
            row.forEach((o, n) -> total.merge(o, n, Integer::sum));
            out.println(row(c.label(), row));
        });
        out.println(row("total", total));
        if (!failures.isEmpty()) {
            out.printf(Locale.ROOT, "%d failures; the first %d:%n", failures.size(), Math.min(show, failures.size()));
            failures.stream().limit(show).forEach(f -> out.print(f.describe()));
        }
    }

    private static int width(Outcome o) {
        return Math.max(5, o.label().length());
    }

    private static String row(String label, EnumMap<Outcome, Integer> row) {
        int n = row.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-12s %7d", label, n));
        for (Outcome o : Outcome.values()) {
            s.append(String.format(Locale.ROOT, " %" + width(o) + "d", row.getOrDefault(o, 0)));
        }
        return s.toString();
    }
}

package io.colo4j.tensor.profile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The per-step breakdown of {@link StepProfile} totals as a table: one row per section (milliseconds per step on
 * each rank, their mean, its share of the mean step, calls per step), GEMMs first, then the other kernels by time,
 * collectives, allocator, dispatch, autograd, optimizer, and "unaccounted" (the step's own time, outside every
 * section) last. The rows add up to the step by construction; the table prints the step time measured around it
 * beside their sum.
 */
public final class ProfileTable {
    /** What each fixed section stands for in the table, in table order (kernels and collectives go before these). */
    private static final Map<String, String> LABELS = orderedLabels(
            "allocator", "allocator (allocate incl. zeroing and faults, free)",
            "dispatch", "dispatch (strategy, conversions, labels)",
            "forward", "forward: autograd + op glue",
            "backward", "backward: autograd engine + op glue",
            "optimizer", "optimizer (clip, AdamW, zero_grad)",
            "step", "unaccounted (in the step, outside the above)");

    private ProfileTable() {}

    private static Map<String, String> orderedLabels(String... keyThenLabel) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keyThenLabel.length; i += 2) {
            m.put(keyThenLabel[i], keyThenLabel[i + 1]);
        }
        return m;
    }

    /**
     * @param ranks         each rank's totals over {@code steps} steps
     * @param steps         the steps the totals cover
     * @param measuredNanos each rank's step time measured around the same steps, summed
     */
    public static String format(List<Map<String, StepProfile.Totals>> ranks, int steps, long[] measuredNanos) {
        if (ranks.isEmpty() || steps < 1 || measuredNanos.length != ranks.size()) {
            throw new IllegalArgumentException("profile table: need >= 1 rank and step and one measured time per rank, got "
                    + ranks.size() + " ranks, " + steps + " steps, " + measuredNanos.length + " times");
        }
        List<String> order = order(ranks);
        int n = ranks.size();
        StringBuilder sb = new StringBuilder();
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-52s", "per step (mean of " + steps + ")"));
        for (int r = 0; r < n; r++) {
            header.append(String.format(Locale.ROOT, " %10s", "rank " + r + " ms"));
        }
        header.append(String.format(Locale.ROOT, " %10s %7s %9s%n", "mean ms", "share", "calls"));
        sb.append(header);
        double[] sums = new double[n];
        double meanStep = 0;
        for (long m : measuredNanos) {
            meanStep += m / 1e6 / steps / n;
        }
        for (String section : order) {
            double[] ms = new double[n];
            double calls = 0;
            for (int r = 0; r < n; r++) {
                StepProfile.Totals t = ranks.get(r).get(section);
                ms[r] = t == null ? 0 : t.nanos() / 1e6 / steps;
                calls += t == null ? 0 : (double) t.calls() / steps / n;
                sums[r] += ms[r];
            }
            row(sb, label(section), ms, meanStep, section.equals("step") ? "" : String.format(Locale.ROOT, "%9.0f", calls));
        }
        row(sb, "sum of the rows", sums, meanStep, "");
        double[] measured = new double[n];
        for (int r = 0; r < n; r++) {
            measured[r] = measuredNanos[r] / 1e6 / steps;
        }
        row(sb, "step time measured around them", measured, meanStep, "");
        for (int r = 0; r < n; r++) {
            StepProfile.Totals g = ranks.get(r).get("gemm");
            if (g != null && g.nanos() > 0) {
                sb.append(String.format(Locale.ROOT, "rank %d: GEMMs %.2f GFLOP per step at %.1f GFLOP/s while in them%n", r,
                        g.work() / 1e9 / steps, g.work() / (double) g.nanos()));
            }
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, String label, double[] ms, double meanStep, String calls) {
        double mean = java.util.Arrays.stream(ms).average().orElse(0);
        sb.append(String.format(Locale.ROOT, "%-52s", label));
        for (double v : ms) {
            sb.append(String.format(Locale.ROOT, " %10.2f", v));
        }
        sb.append(String.format(Locale.ROOT, " %10.2f %6.1f%% %9s%n", mean, meanStep > 0 ? 100 * mean / meanStep : 0, calls));
    }

    private static String label(String section) {
        if (section.equals("gemm")) {
            return "GEMM (matmul kernels)";
        }
        if (section.startsWith("collective ")) {
            return section + " (waiting + copying)";
        }
        return LABELS.getOrDefault(section, section);
    }

    /** gemm, the other kernels by time, collectives by time, then the fixed sections, then anything else. */
    private static List<String> order(List<Map<String, StepProfile.Totals>> ranks) {
        Set<String> all = new LinkedHashSet<>();
        ranks.forEach(m -> all.addAll(m.keySet()));
        Comparator<String> byTime = Comparator.comparingLong((String s) -> -ranks.stream()
                .mapToLong(m -> m.containsKey(s) ? m.get(s).nanos() : 0).sum());
        List<String> out = new ArrayList<>();
        if (all.contains("gemm")) {
            out.add("gemm");
        }
        all.stream().filter(s -> s.startsWith("kernel ")).sorted(byTime).forEach(out::add);
        all.stream().filter(s -> s.startsWith("collective ")).sorted(byTime).forEach(out::add);
        all.stream().filter(s -> !out.contains(s) && !LABELS.containsKey(s)).sorted(byTime).forEach(out::add);
        LABELS.keySet().stream().filter(all::contains).forEach(out::add);
        return out;
    }
}

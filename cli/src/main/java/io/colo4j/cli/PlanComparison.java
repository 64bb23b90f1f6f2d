package io.colo4j.cli;

import io.colo4j.zoo.memory.MemoryPerRank;
import io.colo4j.zoo.sizing.CommPerStep;
import io.colo4j.zoo.sizing.SizingPlan;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.ToLongFunction;

/**
 * {@code plan --rules A --compare B}: two sizing plans of the same run under two rule sets, side by side, memory
 * per rank and communication per step by layer, with B - A in the last column, so which rules cost more, and
 * where, reads off one table. Layers that one plan groups differently from the other get a row each, with -
 * where a plan has no such layer.
 */
final class PlanComparison {
    private PlanComparison() {}

    static void print(PrintStream out, SizingPlan a, SizingPlan b) {
        SizingPlan.Request r = a.request();
        out.printf(Locale.ROOT, "%s: tp=%d x dp=%d, ZeRO stage %d, a step of %d x %d tokens per dp rank%n", r.what(), r.tp(), r.dp(),
                r.zero(), r.batch(), r.seq());
        out.printf("  A: %s%n  B: %s%n%n", source(a), source(b));
        out.println("memory per rank (bytes)");
        TextTable memory = new TextTable("", ">A", ">B", ">B - A");
        memoryRow(memory, "parameters", a, b, MemoryPerRank::parameterBytes);
        memoryRow(memory, "gradients", a, b, MemoryPerRank::gradientBytes);
        memoryRow(memory, "AdamW moments", a, b, MemoryPerRank::optimizerBytes);
        memoryRow(memory, "total", a, b, MemoryPerRank::totalBytes);
        memory.print(out, "  ");

        out.println();
        out.println("communication per rank per step, by layer (x: how many such layers; collectives and bytes of all of them)");
        Map<String, CommPerStep.LayerTotal[]> layers = new LinkedHashMap<>();
        a.communication().byLayer().forEach(l -> layers.computeIfAbsent(l.layer().name(), k -> new CommPerStep.LayerTotal[2])[0] = l);
        b.communication().byLayer().forEach(l -> layers.computeIfAbsent(l.layer().name(), k -> new CommPerStep.LayerTotal[2])[1] = l);
        TextTable comm = new TextTable("layer", ">x", ">A count", ">A bytes", ">B count", ">B bytes", ">B - A bytes");
        layers.forEach((name, pair) -> {
            CommPerStep.LayerTotal la = pair[0];
            CommPerStep.LayerTotal lb = pair[1];
            comm.row(name, (la != null ? la : lb).layer().instances(), count(la), bytes(la), count(lb), bytes(lb),
                    difference(la == null ? OptionalLong.of(0) : la.perStep().bytes(), lb == null ? OptionalLong.of(0) : lb.perStep().bytes()));
        });
        CommPerStep.Tally ta = a.communication().total();
        CommPerStep.Tally tb = b.communication().total();
        comm.row("total", "", ta.count(), SizingReport.bytes(ta.bytes()), tb.count(), SizingReport.bytes(tb.bytes()),
                difference(ta.bytes(), tb.bytes())).print(out, "  ");
        OptionalLong d = difference(ta, tb);
        out.println();
        out.println(d.isEmpty() ? "communication: not comparable (a collective could not be sized)"
                : d.getAsLong() == 0 ? "communication: A and B send the same bytes per step"
                : String.format(Locale.ROOT, "communication: %s sends %s bytes more per rank and step", d.getAsLong() > 0 ? "B" : "A",
                        SizingReport.bytes(Math.abs(d.getAsLong()))));
    }

    private static String source(SizingPlan plan) {
        return plan.request().family().rules().source();
    }

    private static void memoryRow(TextTable table, String what, SizingPlan a, SizingPlan b, ToLongFunction<MemoryPerRank> field) {
        long va = field.applyAsLong(a.memory());
        long vb = field.applyAsLong(b.memory());
        table.row(what, SizingReport.bytes(va), SizingReport.bytes(vb), SizingReport.bytes(vb - va));
    }

    private static String count(CommPerStep.LayerTotal l) {
        return l == null ? "-" : Long.toString(l.perStep().count());
    }

    private static String bytes(CommPerStep.LayerTotal l) {
        return l == null ? "-" : SizingReport.bytes(l.perStep().bytes());
    }

    private static OptionalLong difference(CommPerStep.Tally a, CommPerStep.Tally b) {
        return a.bytes().isPresent() && b.bytes().isPresent() ? OptionalLong.of(b.bytes().getAsLong() - a.bytes().getAsLong())
                : OptionalLong.empty();
    }

    private static String difference(OptionalLong a, OptionalLong b) {
        return a.isPresent() && b.isPresent() ? SizingReport.bytes(b.getAsLong() - a.getAsLong()) : "?";
    }
}

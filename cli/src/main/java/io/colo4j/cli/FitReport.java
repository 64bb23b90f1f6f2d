package io.colo4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.memory.ByteSize;
import io.colo4j.zoo.sizing.LayoutSearch;
import java.io.PrintStream;
import java.util.Locale;

/** {@code plan --fit}: the chosen layout and the runners-up, as text or JSON. */
final class FitReport {
    private FitReport() {}

    static void print(PrintStream out, LayoutSearch.Result r) {
        LayoutSearch.Candidate c = r.chosen();
        out.printf(Locale.ROOT, "%s %s, %d x %d tokens per dp rank, in %s per rank: %d ranks, %s%n", r.family().name(), r.config(),
                r.batch(), r.seq(), ByteSize.of(r.budgetBytes()), c.ranks(), c.describe());
        out.printf(Locale.ROOT, "  per rank: parameters, gradients and optimizer %s + activations %s = %s; sends %s MiB per step%n",
                ByteSize.of(c.stateBytes()), ByteSize.of(c.activationBytes()), ByteSize.of(c.totalBytes()), comm(c));
        out.printf(Locale.ROOT, "  (fewest ranks first, then least communication, recompute, ZeRO; tp degrees traced: %s)%n%n",
                r.tracedTp());
        out.println("layouts that fit at " + c.ranks() + " ranks, best first");
        TextTable table = new TextTable("tp", "dp", "zero", "sequence parallel", "recompute", ">state MiB", ">activations MiB",
                ">total MiB", ">sent MiB");
        for (LayoutSearch.Candidate f : r.fitting()) {
            table.row(f.tp(), f.dp(), f.zero(), f.activations().sequenceParallel() ? "yes" : "no",
                    f.activations().recompute().name().toLowerCase(Locale.ROOT), SizingReport.mib(f.stateBytes()), SizingReport.mib(f.activationBytes()),
                    SizingReport.mib(f.totalBytes()), comm(f));
        }
        table.print(out, "  ");
    }

    static String json(LayoutSearch.Result r) throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("model", r.family().name());
        root.put("config", r.config());
        root.put("batch", r.batch());
        root.put("seq", r.seq());
        root.put("budgetBytesPerRank", r.budgetBytes());
        root.set("chosen", candidate(mapper.createObjectNode(), r.chosen()));
        ArrayNode all = root.putArray("fitting");
        r.fitting().forEach(f -> candidate(all.addObject(), f));
        ArrayNode traced = root.putArray("tracedTp");
        r.tracedTp().forEach(traced::add);
        return mapper.writeValueAsString(root);
    }

    private static ObjectNode candidate(ObjectNode o, LayoutSearch.Candidate c) {
        o.put("tp", c.tp());
        o.put("dp", c.dp());
        o.put("ranks", c.ranks());
        o.put("zero", c.zero());
        o.put("sequenceParallel", c.activations().sequenceParallel());
        o.put("recompute", c.activations().recompute().name().toLowerCase(Locale.ROOT));
        o.put("stateBytesPerRank", c.stateBytes());
        o.put("activationBytesPerRank", c.activationBytes());
        o.put("totalBytesPerRank", c.totalBytes());
        if (c.commBytes().isPresent()) {
            o.put("bytesSentPerStep", c.commBytes().getAsLong());
        } else {
            o.putNull("bytesSentPerStep");
        }
        return o;
    }

    private static String comm(LayoutSearch.Candidate c) {
        return c.commBytes().isPresent() ? SizingReport.mib(c.commBytes().getAsLong()) : "?";
    }
}

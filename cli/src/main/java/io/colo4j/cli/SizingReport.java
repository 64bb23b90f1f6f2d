package io.colo4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.zoo.sizing.ActivationLayouts;
import io.colo4j.zoo.sizing.CommPerStep;
import io.colo4j.zoo.sizing.DpGradientSync;
import io.colo4j.zoo.memory.MemoryPerRank;
import io.colo4j.zoo.sizing.SizingPlan;
import io.colo4j.zoo.sizing.StepTrace;
import io.colo4j.zoo.sizing.TokenScaling;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/** {@code plan} (the sizing plan): memory per rank and communication per step, as text tables or JSON. */
final class SizingReport {
    private static final double MIB = 1024.0 * 1024.0;

    private SizingReport() {}

    static void print(PrintStream out, SizingPlan plan) {
        SizingPlan.Request r = plan.request();
        out.printf(Locale.ROOT, "%s: tp=%d x dp=%d = %d ranks, ZeRO stage %d, a step of %d x %d tokens per dp rank (batch x seq), %s%n",
                r.what(), r.tp(), r.dp(), r.tp() * r.dp(), r.zero(), r.batch(), r.seq(), r.layout());
        SizingPlan.Proxy proxy = plan.proxy();
        String kept = proxy.layers().proxy().layers().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue() + " of " + proxy.layers().model().layers().get(e.getKey()))
                .collect(Collectors.joining(", "));
        out.printf(Locale.ROOT, "sized without allocating the model: memory from the sharding rules; communication from a proxy%n"
                        + "(layers %s; vocabulary %d) traced on %d in-JVM rank%s at %s tokens, scaled to the step and to every layer%n%n",
                kept, proxy.shape().vocabSize(), r.tp(), r.tp() == 1 ? "" : "s", proxy.probes().stream().map(StepTrace.Window::toString)
                        .collect(Collectors.joining(", ")));
        printMemory(out, plan.memory());
        printActivations(out, plan);
        printCommunication(out, plan.communication());
        out.printf(Locale.ROOT, "%nsizing cost: the proxy's steps held at most %s MiB of tensor memory (all its ranks); the model's"
                + " parameters alone are %s MiB per tp group%n", mib(proxy.peakBytes()), mib((double) plan.memory().parameterBytes() * r.tp()));
    }

    private static void printMemory(PrintStream out, MemoryPerRank m) {
        out.println("memory per rank (float32; parameters, gradients, optimizer state)");
        new TextTable("", ">MiB", ">bytes")
                .row("parameters, sharded", mib(m.shardedParameterBytes()), bytes(m.shardedParameterBytes()))
                .row("parameters, replicated", mib(m.replicatedParameterBytes()), bytes(m.replicatedParameterBytes()))
                .row("gradients", mib(m.gradientBytes()), bytes(m.gradientBytes()))
                .row(m.zero() >= 1 ? "AdamW exp_avg + exp_avg_sq (ZeRO: 1/dp)" : "AdamW exp_avg + exp_avg_sq", mib(m.optimizerBytes()),
                        bytes(m.optimizerBytes()))
                .row("total", mib(m.totalBytes()), bytes(m.totalBytes()))
                .print(out, "  ");
        out.printf(Locale.ROOT, "  check: (sharded %s / tp %d + replicated %s) x (1 + 1 + %s) = %s MiB; exact - formula = %s MiB"
                        + " (padding to tp and dp, parameters without gradient)%n%n",
                mib(m.shardedSerialBytes()), m.tp(), mib(m.replicatedParameterBytes()), m.zero() >= 1 ? "2/" + m.dp() : "2",
                mib(m.formulaBytes()), mib(m.totalBytes() - m.formulaBytes()));
    }

    private static void printActivations(PrintStream out, SizingPlan plan) {
        SizingPlan.Request r = plan.request();
        ActivationLayouts a = plan.activations();
        out.printf(Locale.ROOT, "activations per rank (float32, the step's peak of step-scoped memory at %d x %d tokens; proxies traced"
                + " under each layout, scaled to %d layers)%n", r.batch(), r.seq(), a.layers());
        TextTable table = new TextTable("recompute", "sequence parallel", ">MiB", ">bytes", ">with weights MiB");
        for (ActivationLayouts.Layout l : ActivationLayouts.layouts(r.tp())) {
            long bytes = a.bytesPerRank(l, r.batch(), r.seq());
            table.row(name(l.recompute()), l.sequenceParallel() ? "yes" : "no", mib(bytes), bytes(bytes),
                    mib(bytes + plan.memory().totalBytes()));
        }
        table.print(out, "  ");
        out.println();
    }

    private static void printCommunication(PrintStream out, CommPerStep c) {
        out.println("communication per rank per step, by collective (bytes sent, ring algorithms)");
        TextTable byCollective = new TextTable("group", "collective", "phase", ">count", ">bytes", ">MiB");
        for (CommPerStep.CollectiveTotal t : c.byCollective()) {
            byCollective.row(name(t.group()), t.collective().wireName(), name(t.phase()), t.perStep().count(),
                    bytes(t.perStep().bytes()), mib(t.perStep().bytes()));
        }
        CommPerStep.Tally total = c.total();
        byCollective.row("total", "", "", total.count(), bytes(total.bytes()), mib(total.bytes())).print(out, "  ");

        out.println();
        boolean optimizer = c.rows().stream().anyMatch(row -> row.phase() == CommPerStep.Phase.OPTIMIZER);
        out.println("by layer (x: how many such layers; fwd, bwd" + (optimizer ? ", opt" : "") + ": collectives and bytes of one of them)");
        TextTable byLayer = optimizer
                ? new TextTable("layer", ">x", ">fwd", ">fwd bytes", ">bwd", ">bwd bytes", ">opt", ">opt bytes", ">step bytes", ">MiB")
                : new TextTable("layer", ">x", ">fwd", ">fwd bytes", ">bwd", ">bwd bytes", ">step bytes", ">MiB");
        for (CommPerStep.LayerTotal l : c.byLayer()) {
            CommPerStep.Tally f = l.perInstance().getOrDefault(CommPerStep.Phase.FORWARD, CommPerStep.Tally.ZERO);
            CommPerStep.Tally b = l.perInstance().getOrDefault(CommPerStep.Phase.BACKWARD, CommPerStep.Tally.ZERO);
            CommPerStep.Tally o = l.perInstance().getOrDefault(CommPerStep.Phase.OPTIMIZER, CommPerStep.Tally.ZERO);
            List<Object> cells = new ArrayList<>(List.of(l.layer().name(), l.layer().instances(), f.count(), bytes(f.bytes()),
                    b.count(), bytes(b.bytes())));
            if (optimizer) {
                cells.addAll(List.of(o.count(), bytes(o.bytes())));
            }
            cells.addAll(List.of(bytes(l.perStep().bytes()), mib(l.perStep().bytes())));
            byLayer.row(cells.toArray());
        }
        List<Object> totalCells = new ArrayList<>(List.of("total", "", "", "", "", ""));
        if (optimizer) {
            totalCells.addAll(List.of("", ""));
        }
        totalCells.addAll(List.of(bytes(total.bytes()), mib(total.bytes())));
        byLayer.row(totalCells.toArray()).print(out, "  ");

        out.println();
        out.println("collectives (bytes of one layer instance; step bytes = bytes x x)");
        TextTable rows = new TextTable("layer", "module", "op", "collective", "group", "phase", ">bytes", ">x", ">step bytes");
        for (CommPerStep.Row row : c.rows()) {
            String module = row.count() == 1 ? row.module() : row.module() + ": " + row.count() + " collectives";
            rows.row(row.layer().name(), module, row.op(), row.collective().wireName(), name(row.group()), name(row.phase()),
                    bytes(row.bytes()), row.layer().instances(), bytes(row.bytesPerStep()));
        }
        rows.print(out, "  ");
        if (!c.complete()) {
            out.println();
            out.printf(Locale.ROOT, "NOT SIZED: %d collective(s) of the proxy do not grow exactly as batch x seq, so their bytes"
                    + " (and every total that includes them) are shown as ?, not extrapolated:%n", c.notLinear().size());
            for (TokenScaling.Scaled s : c.notLinear()) {
                long[] m = s.measured();
                out.printf(Locale.ROOT, "  %s %s %s %s: %s, %s, %s bytes at the three probe windows%n", s.record().module(),
                        s.record().op(), s.record().collective().wireName(), name(s.record().phase()), m[0],
                        m[1] < 0 ? "absent" : m[1], m[2] < 0 ? "absent" : m[2]);
            }
        }
    }

    static String json(SizingPlan plan) throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        SizingPlan.Request r = plan.request();
        root.put("model", r.family().name());
        root.put("config", r.config());
        root.put("tp", r.tp());
        root.put("dp", r.dp());
        root.put("ranks", r.tp() * r.dp());
        root.put("zero", r.zero());
        root.put("batch", r.batch());
        root.put("seq", r.seq());
        root.put("recompute", name(r.recompute()));
        root.put("sequenceParallel", r.layout().sequenceParallel());

        MemoryPerRank m = plan.memory();
        ObjectNode memory = root.putObject("memory");
        ObjectNode perRank = memory.putObject("bytesPerRank");
        perRank.put("parametersSharded", m.shardedParameterBytes());
        perRank.put("parametersReplicated", m.replicatedParameterBytes());
        perRank.put("parameters", m.parameterBytes());
        perRank.put("gradients", m.gradientBytes());
        perRank.put("optimizer", m.optimizerBytes());
        perRank.put("total", m.totalBytes());
        memory.put("shardedSerialBytes", m.shardedSerialBytes());
        memory.put("formulaBytes", Math.round(m.formulaBytes()));
        ActivationLayouts a = plan.activations();
        long activations = a.bytesPerRank(r.layout(), r.batch(), r.seq());
        perRank.put("activations", activations);
        perRank.put("totalWithActivations", m.totalBytes() + activations);
        ObjectNode act = memory.putObject("activations");
        act.put("layers", a.layers());
        act.put("bytesPerRank", activations);
        ArrayNode layouts = act.putArray("layouts");
        for (ActivationLayouts.Layout l : ActivationLayouts.layouts(r.tp())) {
            ObjectNode o = layouts.addObject();
            o.put("recompute", name(l.recompute()));
            o.put("sequenceParallel", l.sequenceParallel());
            o.put("bytesPerRank", a.bytesPerRank(l, r.batch(), r.seq()));
        }

        ObjectNode proxy = root.putObject("proxy");
        ObjectNode layers = proxy.putObject("layers");
        plan.proxy().layers().proxy().layers().forEach(layers::put);
        proxy.put("vocabSize", plan.proxy().shape().vocabSize());
        proxy.put("positions", plan.proxy().shape().positions());
        proxy.put("peakBytes", plan.proxy().peakBytes());
        ArrayNode probes = proxy.putArray("probes");
        plan.proxy().probes().forEach(w -> probes.add(w.toString()));

        CommPerStep c = plan.communication();
        ObjectNode comm = root.putObject("communication");
        comm.put("complete", c.complete());
        comm.put("collectivesPerStep", c.total().count());
        putBytes(comm, "bytesPerStep", c.total().bytes());
        ArrayNode byCollective = comm.putArray("byCollective");
        for (CommPerStep.CollectiveTotal t : c.byCollective()) {
            ObjectNode o = byCollective.addObject();
            o.put("group", name(t.group()));
            o.put("collective", t.collective().wireName());
            o.put("phase", name(t.phase()));
            o.put("count", t.perStep().count());
            putBytes(o, "bytes", t.perStep().bytes());
        }
        ArrayNode byLayer = comm.putArray("byLayer");
        for (CommPerStep.LayerTotal l : c.byLayer()) {
            ObjectNode o = byLayer.addObject();
            o.put("layer", l.layer().name());
            o.put("instances", l.layer().instances());
            ObjectNode per = o.putObject("perInstance");
            l.perInstance().forEach((phase, t) -> {
                ObjectNode p = per.putObject(name(phase));
                p.put("count", t.count());
                putBytes(p, "bytes", t.bytes());
            });
            o.put("count", l.perStep().count());
            putBytes(o, "bytes", l.perStep().bytes());
        }
        ArrayNode collectives = comm.putArray("collectives");
        for (CommPerStep.Row row : c.rows()) {
            ObjectNode o = collectives.addObject();
            o.put("layer", row.layer().name());
            o.put("instances", row.layer().instances());
            o.put("module", row.module());
            o.put("op", row.op());
            o.put("collective", row.collective().wireName());
            o.put("group", name(row.group()));
            o.put("phase", name(row.phase()));
            o.put("count", row.count());
            putBytes(o, "bytes", row.bytes());
            putBytes(o, "bytesPerStep", row.bytesPerStep());
        }
        ArrayNode notLinear = comm.putArray("notLinear");
        for (TokenScaling.Scaled s : c.notLinear()) {
            ObjectNode o = notLinear.addObject();
            o.put("module", s.record().module());
            o.put("op", s.record().op());
            o.put("collective", s.record().collective().wireName());
            o.put("phase", name(s.record().phase()));
            ObjectNode measured = o.putObject("measured");
            List<StepTrace.Window> windows = plan.proxy().probes();
            for (int i = 0; i < windows.size(); i++) {
                measured.put(windows.get(i).toString(), s.measured()[i]);
            }
        }
        ArrayNode dp = comm.putArray("dataParallel");
        for (DpGradientSync.Collective d : c.dpCollectives()) {
            ObjectNode o = dp.addObject();
            o.put("parameter", d.parameter());
            o.put("collective", d.kind().wireName());
            o.put("phase", name(d.when()));
            o.put("bytes", d.bytes());
        }
        return mapper.writeValueAsString(root);
    }

    private static void putBytes(ObjectNode o, String field, OptionalLong bytes) {
        if (bytes.isPresent()) {
            o.put(field, bytes.getAsLong());
        } else {
            o.putNull(field);
        }
    }

    private static String name(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static String bytes(long b) {
        return String.format(Locale.ROOT, "%,d", b);
    }

    static String bytes(OptionalLong b) {
        return b.isPresent() ? bytes(b.getAsLong()) : "?";
    }

    static String mib(double b) {
        return String.format(Locale.ROOT, "%,.2f", b / MIB);
    }

    private static String mib(OptionalLong b) {
        return b.isPresent() ? mib(b.getAsLong()) : "?";
    }
}

package io.colo4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.zoo.sizing.LayerStacks;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code plan --traced}: rank 0's collectives of one measured step, one by one, then counted per layer. */
final class TraceReport {
    private TraceReport() {}

    /** A JSON array of {module, op, collective, bytes, phase} records. */
    static String json(List<CommTrace.Record> trace) throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode array = mapper.createArrayNode();
        for (CommTrace.Record r : trace) {
            ObjectNode o = array.addObject();
            o.put("module", r.module());
            o.put("op", r.op());
            o.put("collective", r.collective().wireName());
            o.put("bytes", r.bytes());
            o.put("phase", r.phase().name().toLowerCase(Locale.ROOT));
        }
        return mapper.writeValueAsString(array);
    }

    static void print(PrintStream out, String header, List<CommTrace.Record> trace, LayerStacks stacks) {
        out.printf("%s: %d collectives on rank 0%n%n", header, trace.size());
        out.printf("%-40s %-22s %-15s %-9s %12s%n", "module", "op", "collective", "phase", "bytes");
        for (CommTrace.Record r : trace) {
            out.printf("%-40s %-22s %-15s %-9s %,12d%n", r.module().isEmpty() ? "(model)" : r.module(), r.op(),
                    r.collective().wireName(), r.phase().name().toLowerCase(Locale.ROOT), r.bytes());
        }
        Map<String, long[]> perLayer = new LinkedHashMap<>();
        for (CommTrace.Record r : trace) {
            String layer = stacks.locate(r.module()).map(l -> l.stack() + "." + l.index()).orElse("outside layers");
            long[] counts = perLayer.computeIfAbsent(layer, k -> new long[5]);
            boolean forward = r.phase() == CommTrace.Phase.FORWARD;
            boolean reduce = r.collective() == CollectiveKind.ALL_REDUCE;
            counts[forward ? 0 : 1] += reduce ? 1 : 0;
            counts[forward ? 2 : 3] += reduce ? 0 : 1;
            counts[4] += r.bytes();
        }
        out.printf("%n%-40s %12s %12s %12s %12s %14s%n", "per layer", "fwd reduce", "bwd reduce", "fwd other", "bwd other", "bytes");
        perLayer.forEach((layer, c) -> out.printf("%-40s %12d %12d %12d %12d %,14d%n", layer, c[0], c[1], c[2], c[3], c[4]));
    }
}

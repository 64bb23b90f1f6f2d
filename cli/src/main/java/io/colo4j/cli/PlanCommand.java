package io.colo4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.train.LanguageModel;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/colo4j plan}: runs one traced training step of a zoo model, sharded by its rules on tp
 * in-JVM ranks, and prints every collective the dispatcher issued, per layer, forward and backward.
 */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = "The collectives one training step issues, per layer (from a traced step on in-JVM ranks).")
final class PlanCommand implements Callable<Integer> {
    private static final Pattern LAYER = Pattern.compile("^(.*?\\.(?:h|layers|layer|block)\\.\\d+)\\.");

    @Option(names = "--model", defaultValue = "gpt2", description = "Zoo family: ${COMPLETION-CANDIDATES}.", completionCandidates = Families.class)
    String model;

    @Option(names = "--config", description = "Config name (default: the family's smallest).")
    String config;

    @Option(names = "--tp", defaultValue = "2", description = "Tensor-parallel degree (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--dp", defaultValue = "1", description = "Data-parallel degree (default: ${DEFAULT-VALUE}).")
    int dp;

    @Option(names = "--batch", defaultValue = "2", description = "Sequences in the traced step, per dp rank (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", defaultValue = "16", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--json", description = "Print a JSON array of {module, op, collective, bytes, phase} records.")
    boolean json;

    static final class Families extends java.util.ArrayList<String> {
        Families() {
            super(ModelZoo.names());
        }
    }

    @Override
    public Integer call() throws Exception {
        ModelZoo.Family family = ModelZoo.family(model);
        String cfg = config != null ? config : family.defaultConfig();
        List<CommTrace.Record> trace = ThreadWorld.call(tp * dp, comm -> {
            Module m;
            InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu");
            try (ctx) {
                m = family.build(cfg, 1234);
            }
            family.rules().apply(m);
            LanguageModel lm = family.languageModel(m);
            int t = Math.min(seq, lm.maxSequenceLength());
            int[] ids = new int[batch * t];
            int[] targets = new int[batch * t];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 7919 + 13) % lm.vocabSize();
                targets[i] = (i * 104729 + 7) % lm.vocabSize();
            }
            ctx.context().trace().enable(true);
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor loss = lm.loss(IntTensor.of(ids, batch, t), IntTensor.of(targets, batch, t), 0);
                loss.backward();
                DataParallel.averageGradients(m, ctx.context());
            }
            return ctx.context().trace().records();
        }).get(0);
        PrintStream out = System.out;
        if (json) {
            out.println(toJson(trace));
        } else {
            printTable(out, family.name() + " " + cfg, trace);
        }
        return 0;
    }

    static String toJson(List<CommTrace.Record> trace) throws Exception {
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

    private void printTable(PrintStream out, String what, List<CommTrace.Record> trace) {
        out.printf("%s, tp=%d dp=%d, one step of %d x %d tokens per dp rank: %d collectives on rank 0%n%n",
                what, tp, dp, batch, seq, trace.size());
        out.printf("%-40s %-22s %-15s %-9s %12s%n", "module", "op", "collective", "phase", "bytes");
        for (CommTrace.Record r : trace) {
            out.printf("%-40s %-22s %-15s %-9s %,12d%n", r.module().isEmpty() ? "(model)" : r.module(), r.op(),
                    r.collective().wireName(), r.phase().name().toLowerCase(Locale.ROOT), r.bytes());
        }
        Map<String, long[]> perLayer = new LinkedHashMap<>();
        for (CommTrace.Record r : trace) {
            Matcher m = LAYER.matcher(r.module() + ".");
            String layer = m.find() ? m.group(1) : "outside layers";
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

package io.colo4j.cli;

import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.sizing.LayoutSearch;
import io.colo4j.zoo.sizing.SizingPlan;
import io.colo4j.zoo.sizing.StepTrace;
import io.colo4j.zoo.sizing.TpDegrees;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bin/colo4j plan}: what a training step of a zoo model costs each rank at tp x dp. By default a
 * sizing plan ({@link SizingPlan}) that never allocates the model: memory per rank from the rules,
 * communication per step by collective and by layer from a small traced proxy. {@code --traced} runs one
 * real step on tp x dp in-JVM ranks instead (the whole model on each) and prints every collective it
 * issued: the measured side, for small configs.
 */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Memory per rank and communication per step of a zoo model at tp x dp, by collective and by layer,",
            "without allocating the model (--traced: every collective of one real step on in-JVM ranks)."})
final class PlanCommand implements Callable<Integer> {
    private static final int TRACED_BATCH = 2;
    private static final int TRACED_SEQ = 16;

    @Option(names = "--model", defaultValue = "gpt2", description = "Zoo family: ${COMPLETION-CANDIDATES}.", completionCandidates = ZooCandidates.Families.class)
    String model;

    @Option(names = "--config", completionCandidates = ZooCandidates.Configs.class,
            description = "A named config of the --model family: ${COMPLETION-CANDIDATES} (default: its smallest).")
    String config;

    @Mixin
    RulesOption rules;

    @Mixin
    SequenceParallelOption sequenceParallel;

    @Mixin
    RecomputeOption recompute;

    @Option(names = "--dropout", description = "Override every dropout probability of the config, as train's --dropout (sized"
            + " activations depend on it: attention dropout keeps the [batch, heads, seq, seq] probabilities).")
    Float dropout;

    @Option(names = "--compare", paramLabel = "FILE", description = "A second rules file: both plans side by side, by layer,"
            + " with B - A (A: --rules or the bundled rules).")
    java.nio.file.Path compare;

    @Option(names = "--tp", defaultValue = "2", description = "Tensor-parallel degree (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--dp", defaultValue = "1", description = "Data-parallel degree (default: ${DEFAULT-VALUE}).")
    int dp;

    @Option(names = "--zero", defaultValue = "0", description = "ZeRO stage 0, 1 or 2: 1 and 2 shard AdamW's moments over dp"
            + " (2 also reduce-scatters gradients) (default: ${DEFAULT-VALUE}).")
    int zero;

    @Option(names = "--batch", description = "Sequences per dp rank and step (default: 1; --traced: " + TRACED_BATCH + ").")
    Integer batch;

    @Option(names = "--seq", description = "Tokens per sequence (default: the model's longest; --traced: " + TRACED_SEQ + ").")
    Integer seq;

    @Option(names = "--traced", description = "Run one real traced step on tp x dp in-JVM ranks (allocates the model on every"
            + " rank: small configs) and print every collective.")
    boolean traced;

    @Option(names = "--fit", paramLabel = "SIZE", description = "Memory per rank (e.g. 16GiB): the fewest tp x dp ranks, ZeRO stage,"
            + " sequence parallelism and recompute at which the model, --batch and --seq fit it, the least communication among"
            + " those (ignores --tp, --dp, --zero).")
    String fit;

    @Option(names = "--world", description = "With --fit: only layouts of exactly this many ranks (default: the fewest, up to "
            + LayoutSearch.MAX_RANKS + ").")
    Integer world;

    @Option(names = "--json", description = "Print JSON (the sizing plan; with --traced an array of {module, op, collective,"
            + " bytes, phase} records).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ModelZoo.Family family = sequenceParallel.applyTo(rules.applyTo(ModelZoo.family(model)));
        String cfg = config == null ? family.defaultConfig() : config.toLowerCase(Locale.ROOT);
        if (!family.configs().contains(cfg)) {
            throw new IllegalArgumentException("--config " + config + ": " + family.name() + " has " + family.configs());
        }
        if (dropout != null) {
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("--dropout " + dropout + " must lie in [0, 1)");
            }
            HfFamilyOps hf = family.requireHf();
            family = family.pinned(cfg, hf.withDropout(hf.config(cfg), dropout));
        }
        PrintStream out = System.out;
        if (traced) {
            return traced(family, cfg, out);
        }
        Module lazy = family.buildLazily(cfg);
        int s = seq != null ? seq : family.languageModel(lazy).maxSequenceLength();
        if (fit != null) {
            return fit(family, cfg, s, out);
        }
        if (world != null) {
            throw new IllegalArgumentException("--world " + world + " is for --fit; --tp and --dp give the layout to size");
        }
        SizingPlan plan = SizingPlan.of(new SizingPlan.Request(family, cfg, tp, dp, zero, batch != null ? batch : 1, s, recompute.mode()));
        if (compare != null) {
            SizingPlan other = SizingPlan.of(new SizingPlan.Request(family.withRules(compare), cfg, tp, dp, zero, plan.request().batch(), s,
                    recompute.mode()));
            PlanComparison.print(out, plan, other);
            return plan.communication().complete() && other.communication().complete() ? 0 : 1;
        }
        if (json) {
            out.println(SizingReport.json(plan));
        } else {
            SizingReport.print(out, plan);
        }
        return plan.communication().complete() ? 0 : 1;
    }

    private int fit(ModelZoo.Family family, String cfg, int s, PrintStream out) throws Exception {
        if (traced || compare != null) {
            throw new IllegalArgumentException("--fit searches layouts from the sizing plan: not with " + (traced ? "--traced" : "--compare"));
        }
        if (world != null && world < 1) {
            throw new IllegalArgumentException("--world must be >= 1, got " + world);
        }
        long budget = MemoryBudget.parse("--fit", fit);
        LayoutSearch.Result result = LayoutSearch.search(family, cfg, batch != null ? batch : 1, s, budget,
                world == null ? OptionalInt.empty() : OptionalInt.of(world));
        if (json) {
            out.println(FitReport.json(result));
        } else {
            FitReport.print(out, result);
        }
        return 0;
    }

    private int traced(ModelZoo.Family family, String cfg, PrintStream out) throws Exception {
        if (zero != 0) {
            throw new IllegalArgumentException("--traced runs DataParallel's plain gradient all-reduce: --zero " + zero
                    + " is for the sizing plan only");
        }
        if (tp < 1 || dp < 1) {
            throw new IllegalArgumentException("--tp and --dp must be >= 1, got " + tp + " and " + dp);
        }
        // refuse a tp the rules cannot shard here, naming the culprit and what would work, not inside a rank thread
        TpDegrees.require(family, cfg, family.buildLazily(cfg), tp);
        StepTrace.Window window = new StepTrace.Window(batch != null ? batch : TRACED_BATCH, seq != null ? seq : TRACED_SEQ);
        StepTrace.Result result = StepTrace.run(family, () -> family.build(cfg, 1234), tp, dp, List.of(window), recompute.mode());
        if (json) {
            out.println(TraceReport.json(result.windows().get(0)));
        } else {
            TraceReport.print(out, String.format("%s %s, tp=%d dp=%d, one traced step of %s tokens per dp rank", family.name(), cfg,
                    tp, dp, window), result.windows().get(0), result.stacks());
        }
        return 0;
    }
}

package io.colo4j.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.rules.ShardingRules;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bin/colo4j coverage}: which spec each parameter of a zoo model gets from sharding rules, at a
 * given tp, without any ranks: the model is built lazily inside an InitContext on a one-rank world, so
 * nothing is materialised (GPT-2 xl is instant and takes no memory).
 */
@Command(name = "coverage", mixinStandardHelpOptions = true,
        description = {"Sharding-rule coverage of a zoo model: for each parameter the rule that matched and its spec,",
            "unmatched parameters, conflicts, dead rules and bytes per rank. Exits 1 when the plan has errors",
            "(with --strict: whenever coverage is incomplete)."})
final class CoverageCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Zoo model family: ${COMPLETION-CANDIDATES}.",
            completionCandidates = ZooCandidates.Families.class)
    String model;

    @Option(names = "--config", completionCandidates = ZooCandidates.Configs.class,
            description = "A named config of the --model family: ${COMPLETION-CANDIDATES} (default: its smallest, tiny).")
    String config;

    @Mixin
    RulesOption rules;

    @Option(names = "--tp", defaultValue = "2", description = "Tensor-parallel degree to plan for (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--strict", description = "Unmatched parameters, dead rules and unused rule entries are errors.")
    boolean strict;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Override
    public Integer call() {
        if (tp < 1) {
            throw new IllegalArgumentException("--tp must be >= 1, got " + tp);
        }
        ModelZoo.Family family = ModelZoo.family(model);
        String cfg = config == null ? family.defaultConfig() : config.toLowerCase(Locale.ROOT);
        if (!family.configs().contains(cfg)) {
            throw new IllegalArgumentException("--config " + config + ": " + family.name() + " has " + family.configs());
        }
        ShardingRules r = rules.applyTo(family).rules().strict(strict);
        Module m = family.buildLazily(cfg);
        ShardingPlan plan = r.plan(m, tp);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode root = JsonNodeFactory.instance.objectNode();
            root.put("model", family.name());
            root.put("config", cfg);
            root.setAll(plan.toJson());
            out.print(ShardingPlan.json(root));
        } else {
            out.printf(Locale.ROOT, "model: %s (%s), %d parameters, %.1fM values%n", family.name(), cfg,
                    plan.parameterCount(), m.parameterCount() / 1e6);
            out.print(plan.table());
        }
        out.flush();
        return plan.ok() ? 0 : 1;
    }
}

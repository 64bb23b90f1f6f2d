package io.colo4j.rules;

import io.colo4j.tensor.UserWarnings;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.nn.Parameter;

/**
 * What a non-strict {@link ShardingRules#apply} found suspicious (a parameter no rule matched, left replicated; a
 * rule that matched nothing) is told to the user, not only returned: logged once per run, by the rank that is first
 * in both its tp and dp group (every rank plans alike), on System.err when no SLF4J provider is bound.
 */
final class ApplyWarnings {
    private ApplyWarnings() {}

    static void report(ShardingRules rules, ShardingPlan plan, Iterable<Parameter> parameters) {
        if (plan.warnings().isEmpty() || !firstRank(parameters)) {
            return;
        }
        StringBuilder text = new StringBuilder(rules.source()).append(": ").append(plan.warnings().size())
                .append(plan.warnings().size() == 1 ? " warning" : " warnings").append(" (strict mode makes them errors):");
        plan.warnings().forEach(p -> text.append("\n  ").append(p.message()));
        UserWarnings.warn(ShardingRules.class, text.toString());
    }

    private static boolean firstRank(Iterable<Parameter> parameters) {
        for (Parameter p : parameters) {
            if (p instanceof ColoParameter c) {
                return c.context().rank().tpRank() == 0 && c.context().rank().dpRank() == 0;
            }
        }
        return true;
    }
}

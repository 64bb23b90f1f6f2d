package io.colo4j.zoo.sizing;

import io.colo4j.rules.Problem;
import io.colo4j.rules.Rule;
import io.colo4j.rules.RulesException;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Whether a family's rules can shard a config at a tp degree, and if not, which degrees they can: a
 * refusal (GPT-2 xl's 25 heads at tp = 8) should say what would work. Planning is pure, so trying every
 * degree up to {@link #SEARCHED} costs no memory.
 */
public final class TpDegrees {
    /** Degrees tried when listing the accepted ones. */
    public static final int SEARCHED = 64;

    private TpDegrees() {}

    /** The degrees 1..{@code upTo} at which the rules shard {@code lazyModel} without errors. */
    public static List<Integer> accepted(ModelZoo.Family family, Module lazyModel, int upTo) {
        List<Integer> out = new ArrayList<>();
        for (int tp = 1; tp <= upTo; tp++) {
            if (family.rules().plan(lazyModel, tp).ok()) {
                out.add(tp);
            }
        }
        return out;
    }

    /**
     * The sharding plan at {@code tp}; fails with the plan's errors (parameter, shape, what does not
     * divide), the first of each rule only (the same error in every layer says nothing new), and the
     * degrees that would work.
     */
    public static ShardingPlan require(ModelZoo.Family family, String config, Module lazyModel, int tp) {
        ShardingPlan plan = family.rules().plan(lazyModel, tp);
        if (plan.ok()) {
            return plan;
        }
        String what = family.name() + " " + config;
        List<Problem> errors = plan.errors();
        Map<List<Rule>, Problem> firstPerRule = new LinkedHashMap<>();
        errors.forEach(p -> firstPerRule.putIfAbsent(p.rules(), p));
        StringBuilder msg = new StringBuilder(what).append(" cannot be sharded at tp=").append(tp).append(" (rules ")
                .append(plan.rules().source()).append(": ").append(errors.size()).append(errors.size() == 1 ? " error" : " errors")
                .append(errors.size() > firstPerRule.size() ? ", the first of each rule" : "").append("):");
        firstPerRule.values().forEach(p -> msg.append("\n  ").append(p.message()));
        if (errors.size() > firstPerRule.size()) {
            msg.append("\n  ... and ").append(errors.size() - firstPerRule.size()).append(" more from the same rules");
        }
        msg.append("\ntp degrees up to ").append(SEARCHED).append(" at which the rules shard ").append(what).append(": ")
                .append(accepted(family, lazyModel, SEARCHED).stream().map(String::valueOf).collect(Collectors.joining(", ")));
        throw new RulesException(msg.toString());
    }
}

package io.colo4j.rules;

import java.util.List;

/**
 * Something the plan found wrong or suspicious.
 *
 * @param kind      what
 * @param error     whether it stops {@link ShardingRules#apply} (and makes coverage fail); otherwise a warning
 * @param message   the whole story, naming the rule(s), the parameter or module, and shapes where relevant
 * @param parameter the parameter concerned, or null (dead rules)
 * @param rules     the rules concerned: two or more for a conflict, one for most others, none for unmatched
 */
public record Problem(Kind kind, boolean error, String message, String parameter, List<Rule> rules) {
    public enum Kind {
        /** A parameter no rule matches (an error under {@code "default": "error"} or in strict mode). */
        UNMATCHED,
        /** A parameter two or more rules match: always an error. */
        CONFLICT,
        /** A rule that matches no parameter (an error in strict mode). */
        DEAD_RULE,
        /** A parameter key of a rule that matched modules but none of their parameters (an error in strict mode). */
        DEAD_ENTRY,
        /** A column or row rule on a module that does not declare its weight layout: always an error. */
        MISSING_LAYOUT,
        /** A spec that cannot apply to the parameter at this tp (not divisible, row on 1-d, ...): always an error. */
        INVALID_SPEC
    }

    public Problem {
        rules = List.copyOf(rules);
    }

    @Override
    public String toString() {
        return (error ? "error: " : "warning: ") + message;
    }
}

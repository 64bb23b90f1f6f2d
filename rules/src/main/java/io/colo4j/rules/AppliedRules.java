package io.colo4j.rules;

import io.colo4j.tensor.nn.Parameter;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Which rule set laid out each parameter, so that a second, different rule set applied to a model already
 * sharded is refused (naming the first rules' source and the parameter) instead of silently winning. Keyed by
 * the parameter itself (identity: tensors do not override equals), weakly, so a dropped model is forgotten.
 */
final class AppliedRules {
    /** A rule set as far as sameness goes: two reads of one file are the same rules. */
    record Identity(String source, String content) {
        static Identity of(ShardingRules rules) {
            StringBuilder content = new StringBuilder(rules.defaultAction().wireName());
            for (Rule r : rules.rules()) {
                content.append('\n').append(r.name()).append(' ').append(r.pattern()).append(' ').append(r.params());
            }
            return new Identity(rules.source(), content.toString());
        }
    }

    private static final Map<Parameter, Identity> BY_PARAMETER = Collections.synchronizedMap(new WeakHashMap<>());

    private AppliedRules() {}

    /** Throws if a rule set other than {@code rules} already laid out one of {@code parameters}. */
    static void requireNoOther(ShardingRules rules, Map<String, Parameter> parameters) {
        Identity self = Identity.of(rules);
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            Identity first = BY_PARAMETER.get(e.getValue());
            if (first != null && !first.equals(self)) {
                throw new RulesException("cannot apply " + rules.source() + ": parameter " + e.getKey() + " was already laid out by "
                        + first.source() + (first.source().equals(rules.source()) ? " (other rules under the same name)" : "")
                        + "; a model takes one rule set: build a fresh model inside an InitContext to apply another");
            }
        }
    }

    static void record(ShardingRules rules, Iterable<Parameter> parameters) {
        Identity self = Identity.of(rules);
        for (Parameter p : parameters) {
            BY_PARAMETER.put(p, self);
        }
    }
}

package io.colo4j.rules;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One rule of a rules file: the modules it matches and, per parameter key, the spec it gives.
 *
 * @param index    its position in the file's {@code rules} array (0-based)
 * @param name     its {@code name}, or the pattern text when the file gives none
 * @param pattern  which module paths it matches (whole paths, see {@link ModulePattern})
 * @param params   by parameter key: {@code weight}, {@code bias} or {@code *} (any parameter of the
 *                 module not named by another key). Insertion order is the file's.
 * @param location where the rule object starts in the file
 */
public record Rule(int index, String name, ModulePattern pattern, Map<String, ParamRule> params, Location location) {
    /** The parameter keys a rule may use. */
    public static final Set<String> PARAM_KEYS = Set.of("weight", "bias", "*");

    public Rule {
        if (params == null || params.isEmpty()) {
            throw new IllegalArgumentException("rule '" + name + "' gives no parameter a spec");
        }
        for (String key : params.keySet()) {
            if (!PARAM_KEYS.contains(key)) {
                throw new IllegalArgumentException("rule '" + name + "': parameter key '" + key
                        + "' is not one of weight, bias, *");
            }
        }
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        if (location == null) {
            location = Location.unknown("(code)");
        }
    }

    /** The entry for a parameter with this local name: its own key first, then {@code *}; null if neither. */
    public String keyFor(String parameterName) {
        if (params.containsKey(parameterName)) {
            return parameterName;
        }
        return params.containsKey("*") ? "*" : null;
    }

    /** {@code rule 'mlp.fc' (gpt2.rules.json:14:5)}: how messages name a rule. */
    public String describe() {
        return "rule '" + name + "' (" + location + ")";
    }
}

package io.colo4j.rules;

import java.util.Locale;

/** What a rules file does with a parameter that no rule matches; every file must say. */
public enum DefaultAction {
    /** The parameter is replicated (and listed as unmatched in the report; an error in strict mode). */
    REPLICATE,
    /** Planning reports the parameter as an error. */
    ERROR;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DefaultAction fromWireName(String name) {
        for (DefaultAction d : values()) {
            if (d.wireName().equals(name)) {
                return d;
            }
        }
        return null;
    }
}

package io.colo4j.rules;

import io.colo4j.spec.WireNames;

/** What a rules file does with a parameter that no rule matches; every file must say. */
public enum DefaultAction {
    /** The parameter is replicated (and listed as unmatched in the report; an error in strict mode). */
    REPLICATE,
    /** Planning reports the parameter as an error. */
    ERROR;

    public String wireName() {
        return WireNames.of(this);
    }

    /** The constant spelled {@code name} in rules files, or {@code null} (the reader reports it with a suggestion). */
    public static DefaultAction fromWireName(String name) {
        return WireNames.find(DefaultAction.class, name);
    }
}

package io.colo4j.zoo.hf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A family's named configurations (tiny, small, ...), smallest first, with the hub names that stand for
 * them as aliases (gpt2-medium = medium).
 */
public final class NamedConfigs<C> {
    private final String family;
    private final Map<String, C> byName = new LinkedHashMap<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();

    private NamedConfigs(String family) {
        this.family = family;
    }

    public static <C> NamedConfigs<C> of(String family) {
        return new NamedConfigs<>(family);
    }

    /** Adds {@code config} as {@code name}, also known as each of {@code aliases}. */
    public NamedConfigs<C> add(String name, C config, String... aliases) {
        byName.put(name, config);
        for (String a : aliases) {
            this.aliases.put(a, name);
        }
        return this;
    }

    /** The names, smallest first (aliases not repeated). */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /** The config called {@code name} or one of its aliases (case-insensitive); fails listing the names. */
    public C get(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        C c = byName.get(aliases.getOrDefault(n, n));
        if (c == null) {
            throw new IllegalArgumentException("unknown " + family + " config '" + name + "'; known: " + names());
        }
        return c;
    }
}

package io.colo4j.spec;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The one rule for how enum constants are spelled in JSON and logs: lower snake_case
 * ({@code ALL_REDUCE} is {@code "all_reduce"}), so files stay readable next to torch/NCCL names.
 */
public final class WireNames {
    private WireNames() {}

    /**
     * An enum spelled by this rule: {@link #wireName()} is its JSON value. Each enum still declares
     * its own static {@code @JsonCreator fromWireName}, since Jackson needs the concrete type there.
     */
    public interface Named {
        /** Implemented by every enum constant. */
        String name();

        @JsonValue
        default String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static String of(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }

    /** The constant spelled {@code wireName}, or {@code null} when there is none. */
    public static <E extends Enum<E>> E find(Class<E> type, String wireName) {
        for (E constant : type.getEnumConstants()) {
            if (of(constant).equals(wireName)) {
                return constant;
            }
        }
        return null;
    }

    /** The constant spelled {@code wireName}; a {@link SpecException} listing the allowed names when there is none. */
    public static <E extends Enum<E>> E parse(Class<E> type, String wireName) {
        E constant = find(type, wireName);
        if (constant != null) {
            return constant;
        }
        String allowed = Arrays.stream(type.getEnumConstants())
                .map(c -> '"' + of(c) + '"')
                .collect(Collectors.joining(", "));
        throw new SpecException("unknown " + type.getSimpleName() + " \"" + wireName + "\"; expected one of " + allowed);
    }
}

package io.colo4j.spec;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The one rule for how enum constants are spelled in JSON and logs: lower snake_case
 * ({@code ALL_REDUCE} is {@code "all_reduce"}), so files stay readable next to torch/NCCL names.
 */
public final class WireNames {
    private WireNames() {}

    public static String of(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }

    public static <E extends Enum<E>> E parse(Class<E> type, String wireName) {
        for (E constant : type.getEnumConstants()) {
            if (of(constant).equals(wireName)) {
                return constant;
            }
        }
        String allowed = Arrays.stream(type.getEnumConstants())
                .map(c -> '"' + of(c) + '"')
                .collect(Collectors.joining(", "));
        throw new SpecException("unknown " + type.getSimpleName() + " \"" + wireName + "\"; expected one of " + allowed);
    }
}

package io.colo4j.cli;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A memory size as a user writes it ({@code 16GiB}, {@code 1.5G}, {@code 512MiB}, {@code 1000000}): binary units. */
final class MemoryBudget {
    private static final Pattern SIZE = Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([a-z]*)\\s*");
    private static final Map<String, Long> UNITS = Map.ofEntries(Map.entry("", 1L), Map.entry("b", 1L),
            Map.entry("k", 1L << 10), Map.entry("kib", 1L << 10), Map.entry("kb", 1L << 10),
            Map.entry("m", 1L << 20), Map.entry("mib", 1L << 20), Map.entry("mb", 1L << 20),
            Map.entry("g", 1L << 30), Map.entry("gib", 1L << 30), Map.entry("gb", 1L << 30),
            Map.entry("t", 1L << 40), Map.entry("tib", 1L << 40), Map.entry("tb", 1L << 40));

    private MemoryBudget() {}

    /** Bytes; fails naming {@code option} and the value when it is not a positive size. */
    static long parse(String option, String value) {
        Matcher m = SIZE.matcher(value.toLowerCase(Locale.ROOT));
        Long unit = m.matches() ? UNITS.get(m.group(2)) : null;
        if (unit == null) {
            throw new IllegalArgumentException(option + " " + value + ": not a memory size (e.g. 16GiB, 1.5G, 512MiB, or bytes)");
        }
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        if (bytes.signum() <= 0 || bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(option + " " + value + ": the size must be positive and under 8 EiB");
        }
        return bytes.longValue();
    }
}

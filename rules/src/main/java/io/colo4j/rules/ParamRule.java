package io.colo4j.rules;

/**
 * What a rule gives one parameter key ({@code weight}, {@code bias} or {@code *}) of the modules it
 * matches.
 *
 * @param role            the spec, by Megatron role
 * @param stride          the number of equal blocks each split (fused qkv = 3, fused kv = 2); 1 for a
 *                        plain split. Only {@code column} takes a stride.
 * @param outputReplicate whether ops using the parameter gather/reduce their output back to a replica
 *                        ({@link io.colo4j.spec.ComputeSpec#outputReplicate()}); null for the default
 *                        (true: always correct; say false on a column layer whose output feeds a row layer)
 * @param inputIsParallel Megatron's hint that a row layer's input arrives already split along its
 *                        features (from a column layer); null when not said. The dispatcher reads the
 *                        actual input's spec, so this is recorded in the plan as the author's
 *                        expectation; only {@code row} takes it.
 * @param location        where the entry is in the rules file
 */
public record ParamRule(Role role, int stride, Boolean outputReplicate, Boolean inputIsParallel, Location location) {
    public ParamRule {
        if (role == null) {
            throw new IllegalArgumentException("a parameter rule needs a role");
        }
        if (stride < 1) {
            throw new IllegalArgumentException("stride must be >= 1, got " + stride);
        }
        if (stride != 1 && role != Role.COLUMN) {
            throw new IllegalArgumentException("stride applies only to column, not " + role.wireName());
        }
        if (inputIsParallel != null && role != Role.ROW) {
            throw new IllegalArgumentException("inputIsParallel applies only to row, not " + role.wireName());
        }
        if (outputReplicate != null && role == Role.REPLICATE) {
            throw new IllegalArgumentException("outputReplicate does not apply to replicate");
        }
        if (location == null) {
            location = Location.unknown("(code)");
        }
    }

    public static ParamRule of(Role role) {
        return new ParamRule(role, 1, null, null, null);
    }

    public ParamRule withStride(int s) {
        return new ParamRule(role, s, outputReplicate, inputIsParallel, location);
    }

    public ParamRule withOutputReplicate(boolean b) {
        return new ParamRule(role, stride, b, inputIsParallel, location);
    }

    public ParamRule withInputIsParallel(boolean b) {
        return new ParamRule(role, stride, outputReplicate, b, location);
    }

    /** {@code column}, {@code column(stride=3, outputReplicate=false)}, ... */
    public String describe() {
        StringBuilder s = new StringBuilder(role.wireName());
        StringBuilder hints = new StringBuilder();
        if (stride != 1) {
            hints.append("stride=").append(stride);
        }
        if (outputReplicate != null) {
            hints.append(hints.isEmpty() ? "" : ", ").append("outputReplicate=").append(outputReplicate);
        }
        if (inputIsParallel != null) {
            hints.append(hints.isEmpty() ? "" : ", ").append("inputIsParallel=").append(inputIsParallel);
        }
        return hints.isEmpty() ? s.toString() : s.append('(').append(hints).append(')').toString();
    }
}

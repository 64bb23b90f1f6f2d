package io.colo4j.rules;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.nn.WeightLayout;

/**
 * What the plan gives one parameter.
 *
 * @param parameter   its dotted path ({@code transformer.h.0.attn.c_attn.weight})
 * @param module      its module's path ({@code transformer.h.0.attn.c_attn}; empty for the root)
 * @param name        its local name in the module ({@code weight})
 * @param shape       its full (serial) shape
 * @param layout      the module's declared {@link WeightLayout}, or null when it declares none
 * @param rule        the rule that matched it; null when none did, or in a conflict (then see the plan's problems)
 * @param key         the rule's parameter key that applied ({@code weight}, {@code bias} or {@code *})
 * @param entry       that key's entry (the role and hints as written)
 * @param status      how it was decided
 * @param resolved    the spec, compute spec and shapes it gets (see the accessors of the same names)
 */
public record Assignment(String parameter, String module, String name, int[] shape, WeightLayout layout, Rule rule,
                         String key, ParamRule entry, Status status, RoleMapping.Resolved resolved) {

    public enum Status {
        /** Matched by exactly one rule whose spec applies. */
        RULE,
        /** Matched by no rule; replicated by {@code "default": "replicate"}. */
        DEFAULT,
        /** Matched by no rule under {@code "default": "error"}. */
        UNMATCHED,
        /** Matched by two or more rules. */
        CONFLICT,
        /** Matched by one rule whose spec cannot apply (see the plan's errors). */
        INVALID
    }

    public Assignment {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /**
     * The resulting spec; null when it could not be decided (conflict, invalid, unmatched under
     * {@code "default": "error"}).
     */
    public DistSpec spec() {
        return resolved.placed().spec();
    }

    /** The compute spec ops will follow; null for none (replicated parameters). */
    public ComputeSpec compute() {
        return resolved.compute();
    }

    /** Whether the sharded dim is padded up to a multiple of tp (vocab). */
    public boolean padToDivide() {
        return resolved.padToDivide();
    }

    /** The shape the spec splits (the full shape, padded where {@link #padToDivide()}). */
    public int[] globalShape() {
        return resolved.placed().globalShape();
    }

    /** What each rank holds. */
    public int[] localShape() {
        return resolved.placed().localShape();
    }

    /** Whether a rule covers it (exactly one, and its spec applies). */
    public boolean covered() {
        return status == Status.RULE;
    }

    /** Whether each rank holds only a part of it. */
    public boolean sharded() {
        return spec() instanceof ShardSpec;
    }

    /** Bytes each rank holds for it (float32; padding included); a parameter without a spec counts whole. */
    public long bytesPerRank() {
        return Shapes.numel(localShape()) * Float.BYTES;
    }

    /** Bytes of the serial parameter. */
    public long serialBytes() {
        return Shapes.numel(shape) * Float.BYTES;
    }

    /** {@code replicate}, {@code shard(dim 1, 2 parts, stride 3)}, {@code shard(dim 0, 4 parts, padded 50260)}. */
    public String describeSpec() {
        DistSpec spec = spec();
        if (spec == null) {
            return "-";
        }
        if (!(spec instanceof ShardSpec s)) {
            return spec.toString();
        }
        StringBuilder out = new StringBuilder("shard(dim ").append(s.dim(0)).append(", ").append(s.numPartitions(0))
                .append(s.numPartitions(0) == 1 ? " part" : " parts");
        if (s.stride(0) != 1) {
            out.append(", stride ").append(s.stride(0));
        }
        int[] global = globalShape();
        if (padToDivide() && global[s.dim(0)] != shape[s.dim(0)]) {
            out.append(", padded to ").append(global[s.dim(0)]);
        }
        return out.append(')').toString();
    }

    /** {@code out=replicate}, {@code out=sharded} or {@code -} (no compute spec). */
    public String describeCompute() {
        ComputeSpec compute = compute();
        return compute == null ? "-" : compute.outputReplicate() ? "out=replicate" : "out=sharded";
    }
}

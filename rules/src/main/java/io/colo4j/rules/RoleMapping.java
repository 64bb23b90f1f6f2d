package io.colo4j.rules;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;
import io.colo4j.spec.placement.PlacedShape;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.nn.WeightLayout;

/**
 * Maps a role onto a physical spec for one parameter: the pure core of planning, see {@link Role}.
 */
public final class RoleMapping {
    private RoleMapping() {}

    /**
     * The spec a parameter gets.
     *
     * @param placed        the resulting spec, the shape it splits and each rank's shard
     * @param compute       the compute spec (null for a replicated parameter)
     * @param padToDivide   whether the split dim of {@code placed.globalShape()} is padded
     */
    public record Resolved(PlacedShape placed, ComputeSpec compute, boolean padToDivide) {

        /** What a parameter whose spec was not decided (or is a plain replica) holds: all of it. */
        static Resolved whole(DistSpec spec, int[] shape) {
            return new Resolved(PlacedShape.whole(spec, shape), null, false);
        }
    }

    /** A spec that cannot apply; the message says why, without naming the rule or parameter (the caller adds them). */
    public static final class CannotApply extends IllegalArgumentException {
        public CannotApply(String message) {
            super(message);
        }
    }

    /** Whether {@code role} needs the module's weight layout for a parameter of this rank. */
    public static boolean needsLayout(Role role, int parameterRank) {
        return (role == Role.COLUMN || role == Role.ROW) && parameterRank == 2;
    }

    /**
     * @param entry      the rule's entry
     * @param wildcard   whether the entry applies through {@code "*"} (then a 1-d parameter of a row
     *                   layer is replicated) rather than by the parameter's own name (then it is an error)
     * @param shape      the parameter's full shape
     * @param layout     its module's weight layout; needed for column/row on a 2-d parameter
     * @param tp         the tensor-parallel degree
     * @throws CannotApply when the spec cannot apply (rank, divisibility, row on 1-d, missing layout)
     */
    public static Resolved resolve(ParamRule entry, boolean wildcard, int[] shape, WeightLayout layout, int tp) {
        if (tp < 1) {
            throw new CannotApply("tp must be >= 1, got " + tp);
        }
        Role role = entry.role();
        int rank = shape.length;
        ComputeSpec compute = ComputeSpec.tp1d().withOutputReplicate(entry.outputReplicate() == null || entry.outputReplicate());
        switch (role) {
            case REPLICATE -> {
                return replicated(shape);
            }
            case COLUMN, ROW -> {
                if (rank == 1) {
                    if (role == Role.ROW) {
                        if (wildcard) {
                            return replicated(shape); // the bias of a row layer is added after the all-reduce
                        }
                        throw new CannotApply("a row split needs a 2-d weight; a 1-d parameter has no input dim"
                                + " (give it 'replicate', or reach it through '*' to replicate the bias of a row layer)");
                    }
                    return sharded(ShardSpec.strided(0, tp, entry.stride()), compute, false, shape, tp, role, entry.stride());
                }
                if (rank != 2) {
                    throw new CannotApply(role.wireName() + " applies to 2-d weights and 1-d biases, not a "
                            + rank + "-d parameter");
                }
                if (layout == null) {
                    throw new CannotApply("the module does not declare its weight layout (WeightLayout.Aware), so "
                            + role.wireName() + " cannot be mapped to a dim");
                }
                int dim = role == Role.COLUMN ? layout.outDim() : layout.inDim();
                return sharded(ShardSpec.strided(dim, tp, entry.stride()), compute, false, shape, tp, role, entry.stride());
            }
            case VOCAB -> {
                if (rank != 1 && rank != 2) {
                    throw new CannotApply("vocab applies to an embedding table [vocab, dim] (or a 1-d vocab bias),"
                            + " not a " + rank + "-d parameter");
                }
                return sharded(ShardSpec.of(0, tp), compute, true, shape, tp, role, 1);
            }
            default -> throw new IllegalStateException(role.toString());
        }
    }

    private static Resolved replicated(int[] shape) {
        return Resolved.whole(DistSpec.replicate(), shape);
    }

    private static Resolved sharded(ShardSpec spec, ComputeSpec compute, boolean pad, int[] shape, int tp, Role role, int stride) {
        int dim = spec.dim(0);
        int[] global = shape.clone();
        long pieces = (long) tp * stride;
        if (pad) {
            global[dim] = (int) (Math.ceilDiv(shape[dim], pieces) * pieces);
        } else if (shape[dim] % pieces != 0) {
            throw new CannotApply(role.wireName() + " splits dim " + dim + " (" + shape[dim] + ") "
                    + (stride == 1 ? "into " + tp + " parts, but it is not divisible by " + tp
                            : "as " + stride + " blocks of " + tp + " parts, but it is not divisible by stride x tp = " + pieces));
        }
        try {
            ShardLayout layout = ShardLayout.of("parameter", global, spec, tp);
            return new Resolved(layout.placed(), compute, pad);
        } catch (SpecException e) {
            throw new CannotApply(e.getMessage());
        }
    }

    static String shapeOf(int[] shape) {
        return Shapes.format(shape);
    }
}

package io.colo4j.ops.dist;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.colo.ColoParameter;

/**
 * Megatron's sequence parallelism as the generators see it: where a weight's {@link ComputeSpec} asks for a
 * replicated output and for sequence parallelism, the output is split along its token dim (the one before
 * the features) instead, so its partial sums are reduce-scattered rather than all-reduced. The next
 * column-parallel op gathers it again ({@link Dispatcher}: an S input required whole by a consumer that
 * yields a partial gradient is all-gathered forward and reduce-scattered backward).
 */
final class SequenceParallel {
    private SequenceParallel() {}

    /**
     * The spec the output of the op whose weight is input {@code weight}, of global {@code outShape}, is
     * converted to when that weight's compute spec replicates it: R, or S(token dim) under sequence
     * parallelism. A token dim that does not divide by tp is refused, naming the weight, dim and sizes.
     */
    static DistSpec replicatedOutput(OpCall call, int weight, int[] outShape) {
        if (!(call.input(weight) instanceof ColoParameter p) || p.computeSpec() == null
                || !p.computeSpec().sequenceParallel() || call.tp() == 1) {
            return Sbp.R;
        }
        if (outShape.length < 2) {
            throw new IllegalArgumentException("sequence parallelism needs a token dim before the features, but "
                    + p.name() + "'s output of " + call.op().label() + " has shape " + Shapes.format(outShape));
        }
        int dim = outShape.length - 2;
        if (outShape[dim] % call.tp() != 0) {
            throw new IllegalArgumentException("sequence parallelism splits the output " + Shapes.format(outShape) + " of "
                    + call.op().label() + " on " + p.name() + " along dim " + dim + " (tokens): " + outShape[dim]
                    + " is not a multiple of tp=" + call.tp() + "; use a sequence length divisible by " + call.tp()
                    + " or turn sequence_parallel off");
        }
        return ShardSpec.of(dim, call.tp());
    }
}

package io.colo4j.ops.dist;

import io.colo4j.spec.DistSpec;
import io.colo4j.tensor.Tensor;
import java.util.function.Function;

/**
 * One SBP signature of an op for one call: the spec each input must have (null: as it is), which
 * inputs get only a partial gradient from the local op (the dispatcher all-reduces those in backward; a replicated
 * parameter's once per backward, {@link io.colo4j.tensor.colo.SequenceParallelGrads}),
 * the spec of the local op's output, the spec to convert the output to afterwards (null: none) with the
 * output's global shape (to price that conversion), and optionally a local computation other than the
 * op's serial one (e.g. vocab-parallel embedding).
 */
public record Strategy(DistSpec[] inputs, boolean[] partialGrad, DistSpec output, DistSpec after, int[] afterShape,
                       int[] validOutShape, Function<Tensor[], Tensor> local) {

    public static Builder of(int inputs) {
        return new Builder(inputs);
    }

    /** Fluent construction, so each candidate reads as its Megatron/SBP signature. */
    public static final class Builder {
        private final DistSpec[] inputs;
        private final boolean[] partialGrad;
        private DistSpec after;
        private int[] afterShape;
        private int[] validOutShape;
        private Function<Tensor[], Tensor> local;

        private Builder(int n) {
            inputs = new DistSpec[n];
            partialGrad = new boolean[n];
        }

        public Builder require(int input, DistSpec spec) {
            inputs[input] = spec;
            return this;
        }

        /** The local op yields only this rank's share of input i's gradient. */
        public Builder partialGrad(int input) {
            partialGrad[input] = true;
            return this;
        }

        /**
         * Input i, of global {@code shape}, takes part along the split dim {@code dim} (negative: it has no
         * such dim): split like {@code split} where it spans the dim, else replicated, broadcast along the
         * split, so its gradient sums over it (partial).
         */
        public Builder splitOrBroadcast(int input, int[] shape, int dim, DistSpec split) {
            if (dim >= 0 && shape[dim] != 1) {
                return require(input, Sbp.splitLike(split, dim));
            }
            return require(input, Sbp.R).partialGrad(input);
        }

        /** Convert the output, whose global shape is {@code outputShape}, to {@code spec} after the op. */
        public Builder then(DistSpec spec, int[] outputShape) {
            after = spec;
            afterShape = outputShape;
            return this;
        }

        public Builder validOutShape(int[] shape) {
            validOutShape = shape;
            return this;
        }

        public Builder local(Function<Tensor[], Tensor> fn) {
            local = fn;
            return this;
        }

        public Strategy output(DistSpec spec) {
            return new Strategy(inputs, partialGrad, spec, after, afterShape, validOutShape, local);
        }
    }
}

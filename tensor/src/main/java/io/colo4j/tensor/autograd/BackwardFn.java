package io.colo4j.tensor.autograd;

import io.colo4j.tensor.Tensor;

/** Maps the gradient of an op's output to the gradients of its inputs (null where none is needed). */
@FunctionalInterface
public interface BackwardFn {
    Tensor[] apply(Tensor gradOutput);
}

package io.colo4j.ops.dist;

import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.DistState;

/**
 * One call of an op as its sharding rule sees it: the op name, its tensor inputs (null for an absent
 * optional one, such as a bias) with their distribution, its other arguments (token ids, targets),
 * and the rank context they share.
 */
public record OpCall(String op, Tensor[] inputs, Object[] args, DistContext context) {

    public Tensor input(int i) {
        return inputs[i];
    }

    /** The distribution of input i; a plain tensor reads as replicated. */
    public Placement placement(int i) {
        Tensor t = inputs[i];
        if (t == null) {
            return null;
        }
        DistState state = io.colo4j.tensor.colo.ColoTensor.dist(t);
        return state == null ? Placement.replicated(t.shape()) : Placement.of(state, context.tpSize());
    }

    public int size() {
        return inputs.length;
    }
}

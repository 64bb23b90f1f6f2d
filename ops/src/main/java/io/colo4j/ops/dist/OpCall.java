package io.colo4j.ops.dist;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ShardSpec;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.DistState;
import java.util.Arrays;

/**
 * One call of an op as its strategy generator sees it: the op, its tensor inputs (null for an absent
 * optional one, such as a bias) with their distribution, its other arguments (token ids, targets),
 * and the rank context they share.
 */
public record OpCall(Op op, Tensor[] inputs, Object[] args, DistContext context) {

    public Tensor input(int i) {
        return inputs[i];
    }

    public boolean present(int i) {
        return i < inputs.length && inputs[i] != null;
    }

    public int size() {
        return inputs.length;
    }

    public int tp() {
        return context.tpSize();
    }

    /**
     * Input i's spec in normal form (null for an absent input): a plain tensor, or anything over one
     * rank, reads as R; shard dims are non-negative and dims split in one part are dropped.
     */
    public DistSpec spec(int i) {
        Tensor t = inputs[i];
        if (t == null) {
            return null;
        }
        DistState state = ColoTensor.dist(t);
        if (state == null) {
            return Sbp.R;
        }
        DistSpec spec = state.spec();
        if (spec.kind() == PlacementKind.PARTIAL) {
            return Sbp.P;
        }
        if (spec.kind() == PlacementKind.REPLICATE || tp() == 1) {
            return Sbp.R;
        }
        ShardSpec shard = (ShardSpec) spec;
        int n = 0;
        int[] dims = new int[shard.rank()];
        int[] parts = new int[shard.rank()];
        int[] strides = new int[shard.rank()];
        for (int j = 0; j < shard.rank(); j++) {
            if (shard.numPartitions(j) > 1) {
                dims[n] = Shapes.dim("placement", shard.dim(j), state.globalShape().length);
                parts[n] = shard.numPartitions(j);
                strides[n++] = shard.stride(j);
            }
        }
        return n == 0 ? Sbp.R : new ShardSpec(Arrays.copyOf(dims, n), Arrays.copyOf(parts, n), Arrays.copyOf(strides, n));
    }

    /** Input i's global shape. */
    public int[] shape(int i) {
        Tensor t = inputs[i];
        return ColoTensor.dist(t) == null ? t.shape() : ColoTensor.dist(t).globalShape();
    }

    /** Input i's valid shape: its global shape less the padding that made a dim divide by tp. */
    public int[] validShape(int i) {
        Tensor t = inputs[i];
        return ColoTensor.dist(t) == null ? t.shape() : ColoTensor.dist(t).validShape();
    }

    /**
     * Whether an op whose weight is input i gives a replicated output: the weight's ComputeSpec decides;
     * without one the output is replicated, as in ColossalAI.
     */
    public boolean outputReplicate(int i) {
        if (inputs[i] instanceof ColoParameter p) {
            ComputeSpec compute = p.computeSpec();
            return compute == null || compute.outputReplicate();
        }
        return true;
    }

    public int rank(int i) {
        return shape(i).length;
    }
}

package io.colo4j.ops.dist;

import io.colo4j.ops.functional.Arithmetic;
import io.colo4j.ops.functional.Matmul;
import io.colo4j.tensor.nn.WeightLayout;
import io.colo4j.ops.kernel.BinaryOp;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;

/** Distributed forms of ops that are more than one dispatch. */
public final class DistOps {
    private DistOps() {}

    /**
     * A row-parallel linear yields partial sums; its bias joins after the reduction (Megatron's
     * RowParallelLinear), as its own dispatched add, so the bias is counted once.
     */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias, WeightLayout layout) {
        Op op = Ops.linear(layout);
        if (bias != null && isRowParallel(weight, layout)) {
            Tensor partial = Dispatcher.dispatch(op, in -> Matmul.linear(in[0], in[1], null, layout), x, weight);
            return Arithmetic.binaryDispatched(BinaryOp.ADD, partial, bias);
        }
        return Dispatcher.dispatch(op, in -> Matmul.linear(in[0], in[1], in.length > 2 ? in[2] : null, layout), x, weight, bias);
    }

    private static boolean isRowParallel(Tensor weight, WeightLayout layout) {
        if (!weight.isDistributed()) {
            return false;
        }
        OpCall call = new OpCall(Ops.linear(layout), new Tensor[] {weight}, new Object[0], ColoTensor.dist(weight).context());
        return Sbp.isSplitOn(call.spec(0), layout.inDim());
    }

    /** Mean over the global element count, not the shard's. */
    public static Tensor mean(Tensor x) {
        long n = Shapes.numel(io.colo4j.tensor.colo.ColoTensor.dist(x) != null ? io.colo4j.tensor.colo.ColoTensor.dist(x).globalShape() : x.shape());
        return Arithmetic.scale(Arithmetic.sum(x), 1f / Math.max(1, n));
    }
}

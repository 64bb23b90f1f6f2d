package io.colo4j.ops.dist;

import static io.colo4j.ops.dist.Sbp.R;

import io.colo4j.ops.functional.Dropout;
import io.colo4j.ops.kernel.DropoutBits;
import io.colo4j.ops.kernel.GlobalIndex;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.placement.IndexRange;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.DistContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Dropout and bias + dropout + residual on ranks: the layouts are those of any elementwise op, and each
 * candidate's local function knows where its shard's elements sit in the serial tensor, so the mask is
 * the serial one whatever the layout. The global index of an element counts the dp rank's rows too:
 * dp rank r holds rows [r b, (r + 1) b) of the global batch (the trainer's split), and every activation
 * dropout sees has the batch outermost, so its first global element is r times the tensor's tp-global size.
 * Arguments: {p, seed}.
 */
final class DropoutStrategies {
    private DropoutStrategies() {}

    /** Any layout but a partial sum stays as it is (as the activations). */
    static List<Strategy> dropout(OpCall call) {
        DropoutBits bits = bits(call);
        List<Strategy> out = new ArrayList<>();
        for (Strategy s : PointwiseStrategies.unary(call)) {
            out.add(withLocal(s, in -> Dropout.dropout(in[0], bits, index(call, 0, s.output()))));
        }
        return out;
    }

    /**
     * Inputs x, bias [C] or null, residual (x's shape): all replicated (after a row-parallel layer, whose
     * output the all-reduce made whole), or split along a dim x or the residual is already split on, the
     * bias split with the last dim and replicated (partial gradient) otherwise.
     */
    static List<Strategy> biasDropoutAdd(OpCall call) {
        DropoutBits bits = bits(call);
        boolean consume = (Boolean) call.args()[2];
        int rank = call.rank(0);
        List<Strategy> out = new ArrayList<>();
        Strategy.Builder whole = Strategy.of(3).require(0, R).require(2, R);
        if (call.present(1)) {
            whole.require(1, R);
        }
        out.add(whole.output(R));
        Set<DistSpec> splits = new LinkedHashSet<>();
        for (int i : new int[] {0, 2}) {
            if (Sbp.isSplit(call.spec(i))) {
                splits.add(call.spec(i));
            }
        }
        for (DistSpec split : splits) {
            int d = Sbp.splitDim(split);
            Strategy.Builder s = Strategy.of(3).require(0, split).require(2, split);
            if (call.present(1)) {
                s.splitOrBroadcast(1, call.shape(1), d - (rank - 1), split);
            }
            out.add(s.output(split));
        }
        List<Strategy> withLocals = new ArrayList<>();
        for (Strategy s : out) {
            withLocals.add(withLocal(s, in -> Dropout.biasDropoutAdd(in[0], in[1], in[2], bits, index(call, 0, s.output()), consume)));
        }
        // x split on its last dim beside a replicated bias (a column-parallel output left split, or a residual stream
        // split on the hidden dim): each rank adds its slice of the bias as it is, and the bias gradient, whole on
        // no rank, is summed over tp; the bias is not re-laid, so this ranks with the candidates that keep weights
        for (DistSpec split : splits) {
            if (call.present(1) && Sbp.isReplicate(call.spec(1)) && Sbp.splitDim(split) == rank - 1) {
                List<IndexRange> slice = ShardLayout.of(call.op().label() + " bias", call.shape(1), Sbp.splitLike(split, 0), call.tp())
                        .ranges(call.context().tpRank(), 0);
                Strategy s = Strategy.of(3).require(0, split).require(1, R).partialGrad(1).require(2, split).output(split);
                withLocals.add(withLocal(s, in -> Dropout.biasDropoutAdd(in[0], localSlice(in[1], slice), in[2], bits,
                        index(call, 0, split), consume)));
            }
        }
        return withLocals;
    }

    /** The elements of a whole 1-d tensor that {@code ranges} name, in their order (a strided split holds several). */
    private static Tensor localSlice(Tensor whole, List<IndexRange> ranges) {
        List<Tensor> pieces = new ArrayList<>(ranges.size());
        for (IndexRange r : ranges) {
            pieces.add(whole.narrow(0, r.start(), r.end() - r.start()));
        }
        return pieces.size() == 1 ? pieces.get(0) : Tensor.cat(0, pieces);
    }

    /**
     * Where the local elements of input {@code i}, laid out as {@code spec} over tp, sit in the serial
     * model's tensor (this dp rank's rows of the global batch).
     */
    static GlobalIndex index(OpCall call, int i, DistSpec spec) {
        int[] global = call.shape(i);
        if (!Arrays.equals(global, call.validShape(i))) {
            throw new IllegalArgumentException(call.op() + ": input " + i + " of global shape " + Shapes.format(global)
                    + " is padded (valid " + Shapes.format(call.validShape(i)) + "); its mask would not be the serial one");
        }
        DistContext context = call.context();
        long numel = Shapes.numel(global);
        long offset = context.rank().dpRank() * numel;
        if (Sbp.isReplicate(spec) || context.tpSize() == 1) {
            return GlobalIndex.whole(numel, offset);
        }
        return GlobalIndex.of(ShardLayout.of(call.op().label() + " input " + i, global, spec, context.tpSize()), context.tpRank(), offset);
    }

    private static DropoutBits bits(OpCall call) {
        return DropoutBits.of((Float) call.args()[0], (Long) call.args()[1]);
    }

    private static Strategy withLocal(Strategy s, Function<Tensor[], Tensor> local) {
        return new Strategy(s.inputs(), s.partialGrad(), s.output(), s.after(), s.afterShape(), s.validOutShape(), local);
    }
}

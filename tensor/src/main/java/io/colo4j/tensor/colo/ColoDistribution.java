package io.colo4j.tensor.colo;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.placement.LocalCat;
import io.colo4j.spec.placement.LocalNarrow;
import io.colo4j.spec.placement.LocalPlan;
import io.colo4j.spec.placement.LocalView;
import io.colo4j.spec.placement.NotLocal;
import io.colo4j.spec.placement.ViewAlgebra;
import io.colo4j.tensor.Distribution;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * What makes one tensor a ColoTensor: its {@link DistState}, the copy-to-tp region the runtime made for
 * it, and its view ops with the serial model's (global) arguments. The view algebra says which local
 * view gives the same shard of the result; when none does, the input is redistributed first (traced,
 * with its conjugate in backward) and the op retried. One per tensor, never shared.
 */
final class ColoDistribution extends Distribution {
    private final DistState state;
    /** The copy-to-tp region made for this tensor (shared by all its consumers), or null. */
    private Tensor tpCopy;

    private ColoDistribution(DistState state) {
        this.state = state;
    }

    /** Makes {@code t} a shard described by {@code state}; returns {@code t}. */
    static Tensor label(Tensor t, DistState state) {
        return new ColoDistribution(state).label(t);
    }

    /** The state of {@code t}, or null for a plain tensor. */
    static DistState state(Tensor t) {
        return of(t) instanceof ColoDistribution d ? d.state : null;
    }

    /** The copy-to-tp region made for {@code t}, or null (none yet, or a plain tensor). */
    static Tensor tpCopy(Tensor t) {
        return of(t) instanceof ColoDistribution d ? d.tpCopy : null;
    }

    static void setTpCopy(Tensor t, Tensor copy) {
        ((ColoDistribution) of(t)).tpCopy = copy;
    }

    @Override
    protected boolean hasSharedRegion() {
        return tpCopy != null;
    }

    @Override
    protected Tensor sharedRegion(Tensor t) {
        // a replicated input's region is its copy_to_tp; a sharded one's (sequence parallelism) is its gather
        return state.spec() instanceof io.colo4j.spec.ReplicaSpec ? Redistributor.sharedCopyToTpRegion(t) : Redistributor.sharedGatherFromSpRegion(t);
    }

    @Override
    protected void useSharedRegion(Tensor region) {
        tpCopy = region;
    }

    @Override
    public int[] globalShape() {
        return state.globalShape();
    }

    @Override
    public int[] serialShape() {
        return state.validShape();
    }

    @Override
    public boolean holdsWhole() {
        return state.spec() instanceof ReplicaSpec && !state.padded();
    }

    @Override
    public String placement() {
        return state.spec() + " over tp " + state.context().tpSize() + " (rank " + state.context().tpRank() + ")";
    }

    @Override
    protected Tensor full(Tensor shard) {
        return ColoTensor.full(shard);
    }

    @Override
    protected Distribution forCopy() {
        return new ColoDistribution(state);
    }

    /**
     * {@code requested} is in the model's terms: for a tensor padded to divide by tp (logits over a
     * padded vocab) the model names the unpadded sizes, and the padding rides along on the trailing
     * dims that keep their size.
     */
    @Override
    protected Tensor view(Tensor x, int[] requested) {
        int[] request = requested;
        int[] validOut = null;
        if (state.padded()) {
            int[] valid = state.validShape();
            int[] global = state.globalShape();
            validOut = Shapes.inferView("view", valid, requested);
            request = validOut.clone();
            for (int i = request.length - 1, j = valid.length - 1; i >= 0 && j >= 0 && validOut[i] == valid[j]; i--, j--) {
                request[i] = global[j];
            }
        }
        LocalPlan<LocalView> plan = ViewAlgebra.view(OpScope.currentModule(), state.globalShape(), state.spec(),
                state.context().tpSize(), request);
        if (plan instanceof NotLocal<LocalView> notLocal) {
            return Redistributor.redistribute(x, notLocal.requiredInputSpec()).view(requested);
        }
        LocalView local = (LocalView) plan;
        Tensor out = localReshape(x, local.localShape());
        return label(out, state.with(local.outputSpec(), local.globalShape(), validOut != null ? validOut : local.globalShape()));
    }

    @Override
    protected Tensor permute(Tensor x, int[] dims) {
        int[] global = state.globalShape();
        int[] valid = state.validShape();
        DistSpec spec = ViewAlgebra.permute(OpScope.currentModule(), state.spec(), global.length, dims);
        int[] newGlobal = new int[dims.length];
        int[] newValid = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shapes.dim("permute", dims[i], global.length);
            newGlobal[i] = global[d];
            newValid[i] = valid[d];
        }
        return label(localPermute(x, dims), state.with(spec, newGlobal, newValid));
    }

    @Override
    protected Tensor narrow(Tensor x, int dim, int start, int length) {
        LocalPlan<LocalNarrow> plan = ViewAlgebra.narrow(OpScope.currentModule(), state.globalShape(), state.spec(),
                state.context().tpSize(), dim, start, length);
        if (plan instanceof NotLocal<LocalNarrow> notLocal) {
            return Redistributor.redistribute(x, notLocal.requiredInputSpec()).narrow(dim, start, length);
        }
        LocalNarrow local = (LocalNarrow) plan;
        Tensor out = localNarrow(x, local.dim(), local.localStart(), local.localLength());
        int[] valid = state.validShape();
        valid[local.dim()] = local.globalShape()[local.dim()];
        return label(out, state.with(local.outputSpec(), local.globalShape(), valid));
    }

    /** Plain tensors among {@code tensors} join as replicated on the first ColoTensor's group. */
    @Override
    protected Tensor cat(int dim, List<Tensor> tensors) {
        DistContext context = state.context();
        List<Tensor> inputs = new ArrayList<>(tensors.size());
        List<int[]> shapes = new ArrayList<>();
        List<DistSpec> specs = new ArrayList<>();
        for (Tensor t : tensors) {
            Tensor colo = t.isDistributed() ? t : ColoTensor.replicate(t, context);
            DistState s = state(colo);
            inputs.add(colo);
            shapes.add(s.globalShape());
            specs.add(s.spec());
        }
        LocalPlan<LocalCat> plan = ViewAlgebra.cat(OpScope.currentModule(), shapes, specs, context.tpSize(), dim);
        if (plan instanceof NotLocal<LocalCat> notLocal) {
            List<Tensor> converted = new ArrayList<>(inputs.size());
            for (int i = 0; i < inputs.size(); i++) {
                DistSpec required = notLocal.requiredInputSpecs().get(i);
                converted.add(required.equals(specs.get(i)) ? inputs.get(i) : Redistributor.redistribute(inputs.get(i), required));
            }
            return Tensor.cat(dim, converted);
        }
        LocalCat local = (LocalCat) plan;
        Tensor out = localCat(local.dim(), inputs);
        return label(out, new DistState(local.outputSpec(), local.globalShape(), context));
    }

    @Override
    public String toString() {
        return state.toString();
    }
}

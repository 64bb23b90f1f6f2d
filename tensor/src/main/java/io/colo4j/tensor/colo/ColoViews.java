package io.colo4j.tensor.colo;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.placement.LocalCat;
import io.colo4j.spec.placement.LocalNarrow;
import io.colo4j.spec.placement.LocalPlan;
import io.colo4j.spec.placement.LocalView;
import io.colo4j.spec.placement.NotLocal;
import io.colo4j.spec.placement.ViewAlgebra;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * View ops on ColoTensors with the serial model's (global) arguments: the view algebra says which
 * local view gives the same shard of the result; when none does, the input is redistributed first
 * (traced, with its conjugate in backward) and the op retried.
 */
public final class ColoViews {
    private ColoViews() {}

    /**
     * {@code requested} is in the model's terms: for a tensor padded to divide by tp (logits over a
     * padded vocab) the model names the unpadded sizes, and the padding rides along on the trailing
     * dims that keep their size.
     */
    public static Tensor view(Tensor x, int[] requested) {
        DistState state = x.dist();
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
            return view(Redistributor.redistribute(x, notLocal.requiredInputSpec()), requested);
        }
        LocalView local = (LocalView) plan;
        Tensor out = x.localReshape(local.localShape());
        return out.setDist(state.with(local.outputSpec(), local.globalShape(), validOut != null ? validOut : local.globalShape()));
    }

    public static Tensor permute(Tensor x, int[] dims) {
        DistState state = x.dist();
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
        return x.localPermute(dims).setDist(state.with(spec, newGlobal, newValid));
    }

    public static Tensor narrow(Tensor x, int dim, int start, int length) {
        DistState state = x.dist();
        LocalPlan<LocalNarrow> plan = ViewAlgebra.narrow(OpScope.currentModule(), state.globalShape(), state.spec(),
                state.context().tpSize(), dim, start, length);
        if (plan instanceof NotLocal<LocalNarrow> notLocal) {
            return narrow(Redistributor.redistribute(x, notLocal.requiredInputSpec()), dim, start, length);
        }
        LocalNarrow local = (LocalNarrow) plan;
        Tensor out = x.localNarrow(local.dim(), local.localStart(), local.localLength());
        int[] valid = state.validShape();
        valid[local.dim()] = local.globalShape()[local.dim()];
        return out.setDist(state.with(local.outputSpec(), local.globalShape(), valid));
    }

    public static Tensor cat(int dim, List<Tensor> tensors) {
        DistContext context = null;
        for (Tensor t : tensors) {
            if (t.dist() != null) {
                context = t.dist().context();
                break;
            }
        }
        List<Tensor> inputs = new ArrayList<>(tensors.size());
        List<int[]> shapes = new ArrayList<>();
        List<DistSpec> specs = new ArrayList<>();
        for (Tensor t : tensors) {
            Tensor colo = t.dist() != null ? t : ColoTensor.replicate(t, context);
            inputs.add(colo);
            shapes.add(colo.dist().globalShape());
            specs.add(colo.dist().spec());
        }
        LocalPlan<LocalCat> plan = ViewAlgebra.cat(OpScope.currentModule(), shapes, specs, context.tpSize(), dim);
        if (plan instanceof NotLocal<LocalCat> notLocal) {
            List<Tensor> converted = new ArrayList<>(inputs.size());
            for (int i = 0; i < inputs.size(); i++) {
                DistSpec required = notLocal.requiredInputSpecs().get(i);
                converted.add(required.equals(specs.get(i)) ? inputs.get(i) : Redistributor.redistribute(inputs.get(i), required));
            }
            return cat(dim, converted);
        }
        LocalCat local = (LocalCat) plan;
        Tensor out = Tensor.localCat(local.dim(), inputs);
        return out.setDist(new DistState(local.outputSpec(), local.globalShape(), context));
    }
}

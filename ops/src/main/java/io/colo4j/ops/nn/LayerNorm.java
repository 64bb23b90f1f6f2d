package io.colo4j.ops.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Normalization;
import io.colo4j.tensor.nn.Parameter;

/** torch.nn.LayerNorm over the last dim with an affine weight (1) and bias (0). */
public final class LayerNorm extends Module implements Normalization {
    private final Parameter weight;
    private final Parameter bias;
    private final float eps;

    public LayerNorm(int dim, float eps) {
        this(dim, eps, Init.ones(), Init.zeros());
    }

    /** With other initial values than torch's (1, 0). */
    public LayerNorm(int dim, float eps, Init weightInit, Init biasInit) {
        this.weight = registerParameter("weight", Params.of(weightInit, dim));
        this.bias = registerParameter("bias", Params.of(biasInit, dim));
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return F.layerNorm(x, weight, bias, eps);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public float eps() {
        return eps;
    }
}

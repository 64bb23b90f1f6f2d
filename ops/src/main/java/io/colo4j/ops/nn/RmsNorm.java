package io.colo4j.ops.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Normalization;
import io.colo4j.tensor.nn.Parameter;

/** RMSNorm over the last dim (HF LlamaRMSNorm, T5LayerNorm): x / sqrt(mean(x^2) + eps) * weight, weight 1 at init. */
public final class RmsNorm extends Module implements Normalization {
    private final Parameter weight;
    private final float eps;

    public RmsNorm(int dim, float eps) {
        this.weight = registerParameter("weight", Params.of(Init.ones(), dim));
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return F.rmsNorm(x, weight, eps);
    }

    public Parameter weight() {
        return weight;
    }

    public float eps() {
        return eps;
    }
}

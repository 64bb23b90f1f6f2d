package io.colo4j.zoo.gpt2;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;

/** torch.nn.LayerNorm over the last dim: weight 1, bias 0 at init. */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final float eps;

    public LayerNorm(int dim, float eps) {
        this.weight = registerParameter("weight", InitializedParameter.of(Init.ones(), dim));
        this.bias = registerParameter("bias", InitializedParameter.of(Init.zeros(), dim));
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
}

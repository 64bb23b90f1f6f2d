package io.colo4j.zoo.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;

/** torch.nn.Linear: y = x weight^T + bias with weight [out, in]; the bias is optional (zeros at init). */
public final class Linear extends Module implements WeightLayout.Aware {
    private final Parameter weight;
    private final Parameter bias;

    /**
     * @param path the module's dotted name in the model (e.g. {@code model.layers.0.self_attn.q_proj}):
     *             the weight is Normal(0, std) seeded from {@code seed} and {@code path + ".weight"}
     */
    public Linear(String path, int in, int out, boolean bias, float std, long seed) {
        this(in, out, bias, Params.normal(seed, path + ".weight", std));
    }

    public Linear(int in, int out, boolean bias, Init weightInit) {
        this.weight = registerParameter("weight", Params.of(weightInit, out, in));
        this.bias = bias ? registerParameter("bias", Params.of(Init.zeros(), out)) : null;
    }

    public Tensor forward(Tensor x) {
        return F.linear(x, weight, bias);
    }

    /** residual + dropout(forward(x)), the bias, dropout and residual add in one pass (Megatron's bias_dropout_add). */
    public Tensor forwardDropoutAdd(Tensor x, Tensor residual, float p, boolean training, long seed) {
        return F.biasDropoutAdd(F.linear(x, weight, null), bias, residual, p, training, seed);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when the layer has none. */
    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return weight.shape()[1];
    }

    public int outFeatures() {
        return weight.shape()[0];
    }

    /** torch Linear keeps its weight [out, in]: Megatron's column role splits dim 0, row splits dim 1. */
    @Override
    public WeightLayout weightLayout() {
        return WeightLayout.OUT_IN;
    }
}

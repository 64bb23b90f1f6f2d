package io.colo4j.ops.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;

/**
 * A linear layer y = x W + bias in either weight layout: torch.nn.Linear keeps W as [out, in]
 * ({@link WeightLayout#OUT_IN}, computed as {@code F.linear}), HF GPT-2's Conv1D as [in, out]
 * ({@link WeightLayout#IN_OUT}, computed as {@code F.addmm}); the layout tells a sharding rule which dim
 * "column" and "row" split. The bias is optional.
 */
public final class Linear extends Module implements WeightLayout.Aware {
    private final WeightLayout layout;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * A torch Linear ([out, in]) as the zoo builds it; the bias, if any, zeros.
     *
     * @param path the module's dotted name in the model (e.g. {@code model.layers.0.self_attn.q_proj}):
     *             the weight is Normal(0, std) seeded from {@code seed} and {@code path + ".weight"}
     */
    public Linear(String path, int in, int out, boolean bias, float std, long seed) {
        this(in, out, bias, Params.normal(seed, path + ".weight", std));
    }

    /** A torch Linear ([out, in]) with its weight from {@code weightInit}; the bias, if any, zeros. */
    public Linear(int in, int out, boolean bias, Init weightInit) {
        this(WeightLayout.OUT_IN, in, out, weightInit, bias ? Init.zeros() : null);
    }

    /** HF's Conv1D ([in, out], with a bias of zeros), seeded as {@link #Linear(String, int, int, boolean, float, long)}. */
    public static Linear conv1D(String path, int in, int out, float std, long seed) {
        return new Linear(WeightLayout.IN_OUT, in, out, Params.normal(seed, path + ".weight", std), Init.zeros());
    }

    /**
     * @param layout   where the weight keeps its output features
     * @param biasInit the bias's values, or null for no bias
     */
    public Linear(WeightLayout layout, int in, int out, Init weightInit, Init biasInit) {
        this.layout = layout;
        this.weight = registerParameter("weight", layout == WeightLayout.OUT_IN ? Params.of(weightInit, out, in) : Params.of(weightInit, in, out));
        this.bias = biasInit != null ? registerParameter("bias", Params.of(biasInit, out)) : null;
    }

    public Tensor forward(Tensor x) {
        return layout == WeightLayout.OUT_IN ? F.linear(x, weight, bias) : F.addmm(bias, x, weight);
    }

    /** x W alone, for a caller that fuses the bias into what follows ({@code F.biasGelu}, {@code F.biasDropoutAdd}). */
    public Tensor forwardWithoutBias(Tensor x) {
        return layout == WeightLayout.OUT_IN ? F.linear(x, weight, null) : F.addmm(null, x, weight);
    }

    /** residual + dropout(forward(x)), the bias, dropout and residual add in one pass (Megatron's bias_dropout_add). */
    public Tensor forwardDropoutAdd(Tensor x, Tensor residual, float p, boolean training, long seed) {
        // the product is read by nothing else: the sum is written over it
        return F.biasDropoutAddConsuming(forwardWithoutBias(x), bias, residual, p, training, seed);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when the layer has none. */
    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return weight.shape()[layout.inDim()];
    }

    public int outFeatures() {
        return weight.shape()[layout.outDim()];
    }

    @Override
    public WeightLayout weightLayout() {
        return layout;
    }
}

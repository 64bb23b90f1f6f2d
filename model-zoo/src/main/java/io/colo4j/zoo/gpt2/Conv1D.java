package io.colo4j.zoo.gpt2;

import io.colo4j.ops.F;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;
import io.colo4j.zoo.nn.Params;

/** HF's Conv1D: y = x @ weight + bias with weight [in, out] (the transpose of torch Linear). */
public final class Conv1D extends Module implements WeightLayout.Aware {
    private final Parameter weight;
    private final Parameter bias;

    /**
     * @param path the module's dotted name in the model (e.g. {@code transformer.h.0.attn.c_attn}): the
     *             weight's values are seeded from {@code seed} and {@code path + ".weight"}
     */
    public Conv1D(String path, int in, int out, float std, long seed) {
        this.weight = registerParameter("weight", Params.of(Params.normal(seed, path + ".weight", std), in, out));
        this.bias = registerParameter("bias", Params.of(Init.zeros(), out));
    }

    public Tensor forward(Tensor x) {
        return F.addmm(bias, x, weight);
    }

    /** x @ weight alone, for a caller that fuses the bias into what follows ({@code F.biasGelu}). */
    public Tensor forwardWithoutBias(Tensor x) {
        return F.addmm(null, x, weight);
    }

    /** residual + dropout(forward(x)), the bias, dropout and residual add in one pass (Megatron's bias_dropout_add). */
    public Tensor forwardDropoutAdd(Tensor x, Tensor residual, float p, boolean training, long seed) {
        return F.biasDropoutAdd(forwardWithoutBias(x), bias, residual, p, training, seed);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    /** HF Conv1D keeps its weight [in, out]: Megatron's column role splits dim 1, row splits dim 0. */
    @Override
    public WeightLayout weightLayout() {
        return WeightLayout.IN_OUT;
    }
}

package io.colo4j.zoo.gpt2;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;

/** torch.nn.Embedding: weight [num, dim], rows looked up by id. */
public final class Embedding extends Module implements WeightLayout.Aware {
    private final Parameter weight;

    public Embedding(String path, int num, int dim, float std, long seed) {
        this.weight = registerParameter("weight", InitializedParameter.of(Gpt2Model.normal(seed, path + ".weight", std), num, dim));
    }

    public Tensor forward(IntTensor ids) {
        return F.embedding(ids, weight);
    }

    public Parameter weight() {
        return weight;
    }

    /** An embedding table [vocab, dim] reads as [in, out]: vocab-parallel splits dim 0. */
    @Override
    public WeightLayout weightLayout() {
        return WeightLayout.IN_OUT;
    }
}

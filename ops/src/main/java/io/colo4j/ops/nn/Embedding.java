package io.colo4j.ops.nn;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.tensor.nn.WeightLayout;

/** torch.nn.Embedding: weight [num, dim], rows looked up by id. */
public final class Embedding extends Module implements WeightLayout.Aware {
    private final Parameter weight;

    /** Normal(0, std) seeded from {@code seed} and {@code path + ".weight"}. */
    public Embedding(String path, int num, int dim, float std, long seed) {
        this(num, dim, Params.normal(seed, path + ".weight", std));
    }

    public Embedding(int num, int dim, Init init) {
        this.weight = registerParameter("weight", Params.of(init, num, dim));
    }

    public Tensor forward(IntTensor ids) {
        return F.embedding(ids, weight);
    }

    public Parameter weight() {
        return weight;
    }

    public int numEmbeddings() {
        return weight.shape()[0];
    }

    public int embeddingDim() {
        return weight.shape()[1];
    }

    /** An embedding table [vocab, dim] reads as [in, out]: vocab-parallel splits dim 0. */
    @Override
    public WeightLayout weightLayout() {
        return WeightLayout.IN_OUT;
    }
}

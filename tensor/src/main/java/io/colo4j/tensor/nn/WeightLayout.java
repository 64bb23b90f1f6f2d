package io.colo4j.tensor.nn;

/**
 * Where a linear layer keeps its 2-d weight, so that the Megatron roles "column" (split the output
 * features) and "row" (split the input features) map onto the right physical dim for either layout.
 */
public enum WeightLayout {
    /** torch.nn.Linear: [out_features, in_features]. */
    OUT_IN,
    /** HuggingFace Conv1D: [in_features, out_features]; an embedding table [vocab, dim] reads this way too. */
    IN_OUT;

    public int outDim() {
        return this == OUT_IN ? 0 : 1;
    }

    public int inDim() {
        return 1 - outDim();
    }

    /** A module whose {@code weight} parameter is laid out as it says (Linear, Conv1D, Embedding). */
    public interface Aware {
        WeightLayout weightLayout();
    }
}

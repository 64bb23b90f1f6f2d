package io.colo4j.zoo.nn;

import io.colo4j.ops.nn.Linear;

/**
 * The query, key, value and output projections of multi-head attention (torch Linear [out, in]).
 * Building one marks their head structure: a split of q/k/v's output rows (and biases) or of o's input
 * columns must keep whole heads, so a tensor-parallel degree that does not divide the (key/value) heads
 * is refused when the spec is planned or set. The owning layer registers the four Linears itself, under
 * its HF class's names and in its order, since that order is namedParameters()'s.
 */
public record HeadProjections(Linear q, Linear k, Linear v, Linear o) {
    public HeadProjections(Linear q, Linear k, Linear v, Linear o, int headDim) {
        this(q, k, v, o);
        for (Linear l : new Linear[] {q, k, v}) {
            l.weight().splitUnit(0, headDim);
            if (l.bias() != null) {
                l.bias().splitUnit(0, headDim);
            }
        }
        o.weight().splitUnit(1, headDim);
    }
}

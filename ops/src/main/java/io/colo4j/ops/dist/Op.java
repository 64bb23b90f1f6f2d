package io.colo4j.ops.dist;

/**
 * A dispatchable op: the label traces and warnings name it by, and its strategy generator. Declaring
 * the constant is the op's one registration ({@link Ops} holds the built-in ones).
 *
 * <p>{@code backwardReadsOutput}: whether the op's backward may read its own output (as exp's or softmax's does). When
 * it does not (a contraction, an embedding lookup, a sum), an output the dispatcher converts after the op (a row
 * layer's partial sum before its all-reduce or reduce-scatter) is read by no one once converted, and the dispatcher
 * gives its step memory back then instead of holding it to the step's end. True, the safe answer, unless declared.
 */
public record Op(String label, StrategyGenerator strategies, boolean backwardReadsOutput) {
    /** An op whose backward may read its output. */
    public Op(String label, StrategyGenerator strategies) {
        this(label, strategies, true);
    }

    @Override
    public String toString() {
        return label;
    }
}

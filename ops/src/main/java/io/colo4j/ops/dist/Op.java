package io.colo4j.ops.dist;

/**
 * A dispatchable op: the label traces and warnings name it by, and its strategy generator. Declaring
 * the constant is the op's one registration ({@link Ops} holds the built-in ones).
 */
public record Op(String label, StrategyGenerator strategies) {
    @Override
    public String toString() {
        return label;
    }
}

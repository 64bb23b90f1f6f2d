package io.colo4j.ops.kernel;

/** Elementwise binary operations with broadcasting. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV;

    public float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
        };
    }
}

package io.colo4j.tensor;

/** A tensor shape that an operation cannot accept; the message names the op and the shapes. */
public final class ShapeException extends IllegalArgumentException {
    public ShapeException(String message) {
        super(message);
    }

    public static ShapeException of(String op, String problem, int[]... shapes) {
        StringBuilder sb = new StringBuilder(op).append(": ").append(problem);
        if (shapes.length > 0) {
            sb.append(" (shapes");
            for (int[] shape : shapes) {
                sb.append(' ').append(Shapes.format(shape));
            }
            sb.append(')');
        }
        return new ShapeException(sb.toString());
    }
}

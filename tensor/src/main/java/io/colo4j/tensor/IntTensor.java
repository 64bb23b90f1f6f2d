package io.colo4j.tensor;

import java.util.Arrays;

/** Integer data that never needs a gradient: token ids and class targets, row-major on the heap. */
public record IntTensor(int[] data, int[] shape) {
    public IntTensor {
        Shapes.checkValid("IntTensor", shape);
        if (Shapes.numel(shape) != data.length) {
            throw ShapeException.of("IntTensor", data.length + " values do not fill", shape);
        }
        shape = shape.clone();
    }

    public static IntTensor of(int[] data, int... shape) {
        return new IntTensor(data, shape);
    }

    public int numel() {
        return data.length;
    }

    public int get(int flatIndex) {
        return data[flatIndex];
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return "IntTensor" + Arrays.toString(shape);
    }
}

package io.colo4j.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by tensors and operators. */
public final class Shapes {
    private Shapes() {}

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public static long[] contiguousStrides(int[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** A dim index, negative counting from the end, checked against the rank. */
    public static int dim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new ShapeException(op + ": dim " + dim + " out of range for a " + rank + "-d tensor");
        }
        return d;
    }

    public static String format(int[] shape) {
        return Arrays.toString(shape);
    }

    public static void checkValid(String op, int[] shape) {
        for (int d : shape) {
            if (d < 0) {
                throw ShapeException.of(op, "negative size", shape);
            }
        }
    }

    /** Resolves one -1 entry so the element count matches, as torch's view does. */
    public static int[] inferView(String op, int[] from, int[] to) {
        long n = numel(from);
        int[] out = to.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                if (infer >= 0) {
                    throw ShapeException.of(op, "only one dim may be -1", from, to);
                }
                infer = i;
            } else if (out[i] < 0) {
                throw ShapeException.of(op, "negative size", from, to);
            } else {
                known *= out[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw ShapeException.of(op, "cannot infer the -1 dim", from, to);
            }
            out[infer] = (int) (n / known);
        } else if (known != n) {
            throw ShapeException.of(op, numel(from) + " elements cannot be viewed as " + known, from, to);
        }
        return out;
    }

    /**
     * Strides that view memory laid out as (oldShape, oldStrides) with newShape, without copying, or
     * null when no such strides exist (torch's rule: each group of merged or split dims must be
     * contiguous within itself).
     */
    public static long[] viewStrides(int[] oldShape, long[] oldStrides, int[] newShape) {
        long[] newStrides = new long[newShape.length];
        if (numel(oldShape) == 0 || oldShape.length == 0) {
            return contiguousStrides(newShape);
        }
        int viewD = newShape.length - 1;
        long chunkBaseStride = oldStrides[oldStrides.length - 1];
        long tensorNumel = 1;
        long viewNumel = 1;
        for (int tensorD = oldShape.length - 1; tensorD >= 0; tensorD--) {
            tensorNumel *= oldShape[tensorD];
            if (tensorD == 0 || (oldShape[tensorD - 1] != 1 && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    newStrides[viewD] = viewNumel * chunkBaseStride;
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) {
                    return null;
                }
                if (tensorD > 0) {
                    chunkBaseStride = oldStrides[tensorD - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? newStrides : null;
    }

    /** The broadcast shape of two shapes, by numpy/torch rules. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw ShapeException.of(op, "shapes do not broadcast at dim " + i, a, b);
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }
}

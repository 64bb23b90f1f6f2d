package io.colo4j.spec.placement;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/** A row-major n-d array of longs: the brute-force model the view algebra is checked against. */
final class BruteTensor {
    final int[] shape;
    final long[] data;

    BruteTensor(int[] shape, long[] data) {
        this.shape = shape.clone();
        this.data = data;
        if (numel(shape) != data.length) {
            throw new IllegalArgumentException(Arrays.toString(shape) + " does not hold " + data.length + " values");
        }
    }

    /** Distinct values {@code base, base + 1, ...} in row-major order. */
    static BruteTensor iota(int[] shape, long base) {
        long[] data = new long[numel(shape)];
        for (int i = 0; i < data.length; i++) {
            data[i] = base + i;
        }
        return new BruteTensor(shape, data);
    }

    static int numel(int[] shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    /** Row-major reshape. */
    BruteTensor view(int[] newShape) {
        return new BruteTensor(newShape, data);
    }

    /** Output element at index {@code idx} is input element {@code source(idx)}. */
    private BruteTensor gather(int[] outShape, Function<int[], int[]> source) {
        long[] out = new long[numel(outShape)];
        int[] idx = new int[outShape.length];
        for (int flat = 0; flat < out.length; flat++) {
            int rem = flat;
            for (int d = outShape.length - 1; d >= 0; d--) {
                idx[d] = rem % outShape[d];
                rem /= outShape[d];
            }
            out[flat] = data[offset(source.apply(idx))];
        }
        return new BruteTensor(outShape, out);
    }

    private int offset(int[] idx) {
        int off = 0;
        for (int d = 0; d < shape.length; d++) {
            off = off * shape[d] + idx[d];
        }
        return off;
    }

    BruteTensor permute(int[] perm) {
        int[] outShape = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            outShape[i] = shape[perm[i]];
        }
        int[] src = new int[shape.length];
        return gather(outShape, idx -> {
            for (int i = 0; i < perm.length; i++) {
                src[perm[i]] = idx[i];
            }
            return src;
        });
    }

    BruteTensor narrow(int dim, int start, int length) {
        int[] outShape = shape.clone();
        outShape[dim] = length;
        int[] src = new int[shape.length];
        return gather(outShape, idx -> {
            System.arraycopy(idx, 0, src, 0, idx.length);
            src[dim] += start;
            return src;
        });
    }

    /** The sub-tensor at the given per-dim ranges, each dim's ranges concatenated in order. */
    BruteTensor slice(List<List<IndexRange>> ranges) {
        int[][] pick = new int[shape.length][];
        int[] outShape = new int[shape.length];
        for (int d = 0; d < shape.length; d++) {
            List<Integer> indices = new ArrayList<>();
            for (IndexRange r : ranges.get(d)) {
                for (int i = r.start(); i < r.end(); i++) {
                    indices.add(i);
                }
            }
            pick[d] = indices.stream().mapToInt(Integer::intValue).toArray();
            outShape[d] = pick[d].length;
        }
        int[] src = new int[shape.length];
        return gather(outShape, idx -> {
            for (int d = 0; d < idx.length; d++) {
                src[d] = pick[d][idx[d]];
            }
            return src;
        });
    }

    static BruteTensor cat(List<BruteTensor> parts, int dim) {
        int[] outShape = parts.getFirst().shape.clone();
        outShape[dim] = parts.stream().mapToInt(p -> p.shape[dim]).sum();
        long[] out = new long[numel(outShape)];
        int outer = 1;
        for (int d = 0; d < dim; d++) {
            outer *= outShape[d];
        }
        int pos = 0;
        for (int o = 0; o < outer; o++) {
            for (BruteTensor p : parts) {
                int chunk = p.data.length / Math.max(outer, 1);
                System.arraycopy(p.data, o * chunk, out, pos, chunk);
                pos += chunk;
            }
        }
        return new BruteTensor(outShape, out);
    }

    BruteTensor plus(BruteTensor other) {
        long[] out = data.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += other.data[i];
        }
        return new BruteTensor(shape, out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BruteTensor other && Arrays.equals(shape, other.shape) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return Arrays.toString(shape) + " " + Arrays.toString(data);
    }
}

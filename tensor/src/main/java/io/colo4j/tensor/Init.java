package io.colo4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A deterministic, index-addressable initializer: the value of element i of a parameter depends only
 * on the seed and i. So a rank can materialise just its shard of a parameter and get exactly the
 * values the serial model has there, without ever building the full tensor.
 */
public interface Init {
    /** The value at row-major flat index {@code index} of the full tensor. */
    float valueAt(long index);

    static Init zeros() {
        return constant(0f);
    }

    static Init ones() {
        return constant(1f);
    }

    static Init constant(float value) {
        return new Init() {
            @Override
            public float valueAt(long index) {
                return value;
            }

            // one value everywhere: no index to compute per element
            @Override
            public void fill(Tensor target, int[] fullShape, int[] blockOffset) {
                checkBlock(target.shape(), fullShape, blockOffset);
                if (Float.floatToRawIntBits(value) == 0 && target.isContiguous()) {
                    // all zero bits: a memset, not a store per element
                    target.data().fill((byte) 0);
                } else {
                    target.fill(value);
                }
            }
        };
    }

    /** Normal(mean, std) from a counter-based generator (SplitMix64 + Box-Muller). */
    static Init normal(long seed, float mean, float std) {
        return index -> {
            double u1 = Random.unit(seed, 2 * index);
            double u2 = Random.unit(seed, 2 * index + 1);
            double z = Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
            return (float) (mean + std * z);
        };
    }

    static Init uniform(long seed, float low, float high) {
        return index -> (float) (low + (high - low) * Random.unit(seed, index));
    }

    /**
     * Fills {@code target}, which holds the block of a tensor of shape {@code fullShape} that starts at
     * {@code blockOffset} (per dim) and has target's shape.
     */
    default void fill(Tensor target, int[] fullShape, int[] blockOffset) {
        int[] shape = target.shape();
        checkBlock(shape, fullShape, blockOffset);
        long[] fullStrides = Shapes.contiguousStrides(fullShape);
        long[] strides = target.strides();
        MemorySegment seg = target.segment();
        long n = target.numel();
        int[] idx = new int[shape.length];
        for (long e = 0; e < n; e++) {
            long src = 0;
            long dst = target.offset();
            for (int d = 0; d < shape.length; d++) {
                src += (idx[d] + blockOffset[d]) * fullStrides[d];
                dst += idx[d] * strides[d];
            }
            seg.setAtIndex(ValueLayout.JAVA_FLOAT, dst, valueAt(src));
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /** Fails unless a block of {@code shape} at {@code blockOffset} lies inside a tensor of {@code fullShape}. */
    private static void checkBlock(int[] shape, int[] fullShape, int[] blockOffset) {
        if (shape.length != fullShape.length || blockOffset.length != fullShape.length) {
            throw ShapeException.of("init", "block rank differs from the full tensor", shape, fullShape);
        }
        for (int d = 0; d < shape.length; d++) {
            if (blockOffset[d] < 0 || blockOffset[d] + shape[d] > fullShape[d]) {
                throw ShapeException.of("init", "block at offset " + java.util.Arrays.toString(blockOffset)
                        + " lies outside the full tensor", shape, fullShape);
            }
        }
    }

    /** Counter-based uniform numbers: stateless, so any element can be generated independently. */
    final class Random {
        private Random() {}

        /** splitmix64's finaliser: every counter-based stream of the code base draws through it. */
        public static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }

        /** Uniform in (0, 1]. */
        public static double unit(long seed, long counter) {
            long bits = mix(mix(seed) + counter * 0x9e3779b97f4a7c15L);
            return ((bits >>> 11) + 1) * 0x1.0p-53;
        }

        /** A seed for a named stream, e.g. a parameter's dotted name under a model seed. */
        public static long seed(long base, String name) {
            long h = mix(base);
            for (int i = 0; i < name.length(); i++) {
                h = mix(h ^ name.charAt(i));
            }
            return h;
        }
    }
}

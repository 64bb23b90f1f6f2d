package io.colo4j.ops.nn;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.nn.Parameter;

/**
 * How the layers make parameters: values seeded from the model seed and the parameter's dotted
 * name (so they do not depend on construction order), filled on all kernel threads when built serially,
 * and left lazy inside an {@link InitContext} (a rank then materialises only its shard).
 */
public final class Params {
    private static final int GRAIN_ELEMENTS = 1 << 16;

    private Params() {}

    /** Normal(0, std) seeded by {@code seed} and {@code name}; zeros when std is 0. */
    public static Init normal(long seed, String name, float std) {
        return std == 0f ? Init.zeros() : Init.normal(Init.Random.seed(seed, name), 0f, std);
    }

    /**
     * Inside an {@link InitContext} a plain lazy {@link Parameter} (which the registering module turns
     * into the rank's ColoParameter); otherwise one filled now, in parallel row blocks, with exactly the
     * values of {@code new Parameter(init, shape)}.
     */
    public static Parameter of(Init init, int... shape) {
        if (InitContext.current() != null) {
            return new Parameter(init, shape);
        }
        return new Filled(fill(init, shape), init);
    }

    private static final class Filled extends Parameter {
        Filled(Tensor data, Init init) {
            super(data, init);
        }
    }

    private static Tensor fill(Init init, int[] shape) {
        Tensor t;
        try (MemoryScope _ = MemoryScope.persistent()) {
            t = Tensor.zeros(shape);
        }
        if (shape.length == 0 || t.numel() <= GRAIN_ELEMENTS) {
            init.fill(t, shape, new int[shape.length]);
            return t;
        }
        long rowLen = t.numel() / Math.max(shape[0], 1);
        int grain = (int) Math.max(1, GRAIN_ELEMENTS / Math.max(rowLen, 1));
        CpuThreads.parallelFor(shape[0], grain, (from, to) -> {
            int[] offset = new int[shape.length];
            offset[0] = from;
            init.fill(t.narrow(0, from, to - from), shape, offset);
        });
        return t;
    }
}

package io.colo4j.zoo.gpt2;

import io.colo4j.ops.kernel.cpu.CpuThreads;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.nn.Parameter;

/**
 * A {@link Parameter} whose initial values are computed on all kernel threads (row blocks of the same
 * index-addressable {@link Init}, so the values are exactly those of {@code new Parameter(init, shape)}).
 * GPT-2 small has 124M values to draw; xl 1.5B.
 */
final class InitializedParameter extends Parameter {
    private static final int GRAIN_ELEMENTS = 1 << 16;

    private InitializedParameter(Tensor data, Init init) {
        super(data, init);
    }

    /**
     * Inside an {@link InitContext} (a rank building its shard of the model) a plain lazy
     * {@code Parameter}, which the registering module turns into the rank's ColoParameter; otherwise
     * one filled now, in parallel.
     */
    static Parameter of(Init init, int... shape) {
        if (InitContext.current() != null) {
            return new Parameter(init, shape);
        }
        return new InitializedParameter(fill(init, shape), init);
    }

    private static Tensor fill(Init init, int[] shape) {
        Tensor t;
        try (MemoryScope persistent = MemoryScope.persistent()) {
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

package io.colo4j.tensor.colo;

import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ReplicaSpec;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.placement.IndexRange;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.nn.Parameter;
import java.util.Arrays;
import java.util.List;

/**
 * A parameter that lives on a tp group: its local data is this rank's shard of the serial parameter,
 * described by a {@link DistSpec}; its {@link ComputeSpec} tells the dispatcher how ops that use it
 * compute (TP1D; whether their output is gathered back to replicate).
 *
 * <p>Created lazily: nothing is allocated until the spec is known or the data is first used, and then
 * only the shard, with exactly the values the serial model has there.
 */
public final class ColoParameter extends Parameter {
    private final DistContext context;
    private DistSpec spec = ReplicaSpec.INSTANCE;
    private ComputeSpec compute;
    private int[] globalShape;
    private volatile boolean sequenceParallel;
    private volatile boolean gradSummedAfterBackward;

    ColoParameter(Init init, int[] shape, DistContext context) {
        super(init, shape, true);
        this.context = context;
        this.globalShape = shape.clone();
        ColoDistribution.label(this, new DistState(spec, globalShape, shape, context));
    }

    public DistContext context() {
        return context;
    }

    public DistSpec spec() {
        return spec;
    }

    /** Null until set: ops using this parameter then follow their default (replicated output). */
    public ComputeSpec computeSpec() {
        return compute;
    }

    /**
     * Megatron's {@code sequence_parallel} attribute, set by rules with sequence parallelism on every parameter they leave
     * replicated: where a consumer yields only this rank's share of its gradient (a norm or bias on the sequence-split
     * region), the shares are summed once after backward ({@link SequenceParallelGrads}) rather than all-reduced there.
     */
    public boolean sequenceParallel() {
        return sequenceParallel;
    }

    public void setSequenceParallel(boolean on) {
        sequenceParallel = on;
    }

    /**
     * Whether a consumer read this replicated parameter on a split region (sequence parallelism's norms and biases), so
     * that each rank holds only its share of the gradient until {@link SequenceParallelGrads} sums them after backward.
     */
    public boolean gradSummedAfterBackward() {
        return gradSummedAfterBackward;
    }

    void markGradSummedAfterBackward() {
        gradSummedAfterBackward = true;
    }

    public void setSpec(DistSpec newSpec, ComputeSpec newCompute) {
        setSpec(newSpec, newCompute, false);
    }

    /**
     * Shards (or replicates) this parameter. With {@code padToDivide}, a sharded dim that the degree
     * does not divide is padded with zero rows up to the next multiple (Megatron's
     * make-vocab-size-divisible); the padding never reaches checkpoints or the loss. Fails naming the
     * parameter, its shape and the degree when the spec cannot apply; the parameter is unchanged then.
     */
    public void setSpec(DistSpec newSpec, ComputeSpec newCompute, boolean padToDivide) {
        int[] valid = fullShape();
        int[] padded = padToDivide ? paddedShape(newSpec, valid) : valid;
        ShardLayout layout = ShardLayout.of(displayName(), padded, newSpec, context.tpSize());
        checkSplitUnits(newSpec, padded, context.tpSize());
        if (isMaterialized() && !(spec instanceof ReplicaSpec && !padded())) {
            throw new IllegalStateException("parameter " + displayName() + " already holds " + spec
                    + " data; respecifying a materialised shard is not supported");
        }
        Tensor replicated = isMaterialized() ? this.detach() : null;
        this.spec = newSpec;
        this.compute = newCompute;
        this.globalShape = padded;
        ColoDistribution.label(this, new DistState(newSpec, padded, valid, context));
        if (replicated == null) {
            setLazyShape(layout.localShape());
        } else {
            try (MemoryScope persistent = MemoryScope.persistent()) {
                Tensor full = padded(replicated, padded);
                Tensor local = Shards.slice(full, layout, context.tpRank());
                Tensor old = replicated;
                setData(local);
                old.freeStorage();
            }
        }
    }

    private boolean padded() {
        return !Arrays.equals(globalShape, fullShape());
    }

    private int[] paddedShape(DistSpec s, int[] valid) {
        int[] out = valid.clone();
        if (s instanceof ShardSpec shard) {
            for (int i = 0; i < shard.rank(); i++) {
                int d = Shapes.dim("setSpec", shard.dim(i), valid.length);
                int unit = shard.numPartitions(i) * shard.stride(i);
                out[d] = Math.ceilDiv(valid[d], unit) * unit;
            }
        }
        return out;
    }

    private static Tensor padded(Tensor full, int[] paddedShape) {
        if (Arrays.equals(full.shape(), paddedShape)) {
            return full;
        }
        Tensor out = Tensor.zeros(paddedShape);
        Tensor region = out;
        int[] shape = full.shape();
        for (int d = 0; d < shape.length; d++) {
            region = region.narrow(d, 0, shape[d]);
        }
        region.copyFrom(full);
        return out;
    }

    /** Allocates and fills this rank's shard from the initializer; padding rows stay zero. */
    @Override
    protected void materialize() {
        ShardLayout layout = ShardLayout.of(displayName(), globalShape, spec, context.tpSize());
        try (MemoryScope persistent = MemoryScope.persistent()) {
            Tensor local = Tensor.zeros(layout.localShape());
            fillBlocks(local, layout, layout.shardedDimIndices(), 0, new int[globalShape.length]);
            setData(local);
        }
    }

    private void fillBlocks(Tensor local, ShardLayout layout, int[] dims, int which, int[] globalOffset) {
        if (which == dims.length) {
            fillValid(local, globalOffset);
            return;
        }
        int dim = dims[which];
        int localStart = 0;
        List<IndexRange> ranges = layout.ranges(context.tpRank(), dim);
        for (IndexRange r : ranges) {
            int[] offset = globalOffset.clone();
            offset[dim] = r.start();
            fillBlocks(local.narrow(dim, localStart, r.length()), layout, dims, which + 1, offset);
            localStart += r.length();
        }
    }

    /** Fills the part of a block that lies inside the unpadded parameter. */
    private void fillValid(Tensor block, int[] globalOffset) {
        int[] valid = fullShape();
        int[] shape = block.shape();
        Tensor region = block;
        for (int d = 0; d < shape.length; d++) {
            int inside = Math.max(0, Math.min(shape[d], valid[d] - globalOffset[d]));
            if (inside == 0) {
                return;
            }
            region = region.narrow(d, 0, inside);
        }
        init().fill(region, valid, globalOffset);
    }

    /** The local data is the whole (unpadded) parameter. */
    public boolean isReplicated() {
        return spec.kind() == PlacementKind.REPLICATE;
    }

    private String displayName() {
        return name() != null ? name() : "parameter " + Shapes.format(fullShape());
    }

    @Override
    public String toString() {
        return "ColoParameter(" + displayName() + ", " + spec + ", local " + Shapes.format(localShape()) + ")";
    }
}

package io.colo4j.tensor.nn;

import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A trainable leaf tensor registered in a {@link Module}. It remembers its full (serial) shape and its
 * initializer, so a sharded copy can be materialised for any rank with the serial model's values.
 */
public class Parameter extends Tensor {
    private final int[] fullShape;
    private final Init init;
    private String name;
    private int[] splitUnits;
    private int[] fusedBlocks;

    /**
     * A parameter of {@code shape}, filled by {@code init}, in long-lived memory. While a
     * {@link ParameterFactory} is open nothing is allocated yet: the module that registers it keeps what
     * the factory makes of it (colo's InitContext: a ColoParameter that materialises only its rank's shard).
     */
    public Parameter(Init init, int... shape) {
        this(ParameterFactory.current() == null ? materialise(init, shape) : null, init, shape);
    }

    /** For subclasses that materialise lazily: no storage until first touched. */
    protected Parameter(Init init, int[] shape, boolean lazy) {
        this(null, init, shape);
    }

    /** A parameter holding a copy of {@code value} (e.g. loaded from a checkpoint). */
    public static Parameter of(Tensor value) {
        try (MemoryScope persistent = MemoryScope.persistent()) {
            Tensor copy = value.copy();
            MemorySegment values = copy.data();
            return new Parameter(copy, index -> values.getAtIndex(ValueLayout.JAVA_FLOAT, index));
        }
    }

    protected Parameter(Tensor data, Init init) {
        this(data, init, data.shape());
    }

    private Parameter(Tensor data, Init init, int[] shape) {
        super(data == null ? null : data.storage(), shape.clone(),
                data == null ? Shapes.contiguousStrides(shape) : data.strides(), data == null ? 0 : data.offset());
        this.fullShape = shape.clone();
        this.init = init;
        requiresGrad(true);
    }

    /**
     * Declares that dim {@code dim} is made of whole units of {@code unit} elements (attention heads of
     * head_dim): a shard must hold whole units, so a head count that tp does not divide fails when the
     * spec is set, not later inside attention. A structural fact about the model, not parallel code.
     */
    public final Parameter splitUnit(int dim, int unit) {
        if (unit < 1) {
            throw new IllegalArgumentException("split unit must be >= 1, got " + unit);
        }
        int d = Shapes.dim("splitUnit", dim, fullShape.length);
        if (splitUnits == null) {
            splitUnits = new int[fullShape.length];
            java.util.Arrays.fill(splitUnits, 1);
        }
        splitUnits[d] = unit;
        return this;
    }

    /**
     * Fails naming the parameter when {@code spec} over {@code tp} ranks would cut one of its declared
     * units (see {@link #splitUnit}); {@code globalShape} may be padded.
     */
    public final void checkSplitUnits(io.colo4j.spec.DistSpec spec, int[] globalShape, int tp) {
        if (splitUnits == null || !(spec instanceof io.colo4j.spec.ShardSpec shard)) {
            return;
        }
        for (int i = 0; i < shard.rank(); i++) {
            int d = Shapes.dim("splitUnit", shard.dim(i), globalShape.length);
            int unit = splitUnits[d];
            long block = (long) globalShape[d] / shard.stride(i);
            long units = block / unit;
            if (unit > 1 && units % shard.numPartitions(i) != 0) {
                throw new IllegalArgumentException("cannot shard " + (name != null ? name : "parameter") + " "
                        + Shapes.format(fullShape) + " dim " + d + " into " + shard.numPartitions(i) + " parts at tp=" + tp
                        + ": it holds " + units + " units of " + unit + " (e.g. attention heads)"
                        + (shard.stride(i) > 1 ? " per fused block" : "") + " and " + units + " is not divisible by "
                        + shard.numPartitions(i));
            }
        }
    }

    /**
     * Declares that dim {@code dim} is {@code blocks} projections fused side by side (GPT-2's c_attn: q | k | v = 3,
     * a fused key | value = 2), so a split of that dim must take a part of every block (stride {@code blocks}) or cut
     * the dim as one (stride 1); sharding rules refuse any other stride. A structural fact, like {@link #splitUnit}.
     */
    public final Parameter fusedBlocks(int dim, int blocks) {
        if (blocks < 1) {
            throw new IllegalArgumentException("fused blocks must be >= 1, got " + blocks);
        }
        int d = Shapes.dim("fusedBlocks", dim, fullShape.length);
        if (fusedBlocks == null) {
            fusedBlocks = new int[fullShape.length];
            java.util.Arrays.fill(fusedBlocks, 1);
        }
        fusedBlocks[d] = blocks;
        return this;
    }

    /** How many fused blocks dim {@code dim} holds (see {@link #fusedBlocks(int, int)}); 1 when none were declared. */
    public final int fusedBlocks(int dim) {
        return fusedBlocks == null ? 1 : fusedBlocks[Shapes.dim("fusedBlocks", dim, fullShape.length)];
    }

    /** Its dotted name in the model, once a module tree has named it; null before. */
    public final String name() {
        return name;
    }

    /** Set by {@link Module#namedParameters()}: the first path under which the parameter is found. */
    final void nameIfUnnamed(String path) {
        if (name == null) {
            name = path;
        }
    }

    /** A lazily created parameter registered outside a ColoParameter-aware module tree: materialise it whole. */
    @Override
    protected void materialize() {
        setData(materialise(init, fullShape));
    }

    private static Tensor materialise(Init init, int[] shape) {
        try (MemoryScope persistent = MemoryScope.persistent()) {
            return Tensor.init(init, shape);
        }
    }

    /** The shape of the whole (unsharded) parameter. */
    public final int[] fullShape() {
        return fullShape.clone();
    }

    public final Init init() {
        return init;
    }

    /** Swaps the values this parameter holds (e.g. for its local shard), keeping its identity. */
    public void setData(Tensor data) {
        replaceData(data);
    }
}

package io.colo4j.tensor;

import io.colo4j.tensor.autograd.Autograd;
import io.colo4j.tensor.autograd.GradFn;
import io.colo4j.tensor.autograd.GradMode;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * A float32 tensor: a view (shape, strides, offset, all in elements) over off-heap {@link Storage},
 * with the autograd state torch keeps on a tensor (requiresGrad, grad, the function that made it).
 *
 * <p>View operations here (view, reshape, transpose, permute, narrow, split, chunk, cat, contiguous,
 * unsqueeze, squeeze) are differentiable; arithmetic lives in the ops module's {@code F}. A tensor whose
 * data is one rank's shard of a larger one (a ColoTensor) has a {@link Distribution}, which takes its view
 * ops: there they use global shapes, as the serial model does.
 */
public class Tensor {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    private Storage storage;
    private int[] shape;
    private long[] strides;
    private long offset;
    private boolean requiresGrad;
    private Tensor grad;
    private GradFn gradFn;
    private boolean ownsGrad;
    private List<Consumer<Tensor>> gradHooks = List.of();
    private boolean gradAccumulationSkipped;
    /** Set only through {@link Distribution#label}; null for a plain tensor. */
    Distribution distribution;

    protected Tensor(Storage storage, int[] shape, long[] strides, long offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ---- factories -------------------------------------------------------------------------

    /** Zero-filled (off-heap memory always arrives zeroed). */
    public static Tensor zeros(int... shape) {
        Shapes.checkValid("zeros", shape);
        return new Tensor(Storage.allocate(Shapes.numel(shape)), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /**
     * Uninitialised (torch.empty): for an output that is written in full before it is read; its elements are
     * whatever the reused memory held. Everything else stays {@link #zeros}.
     */
    public static Tensor empty(int... shape) {
        Shapes.checkValid("empty", shape);
        return new Tensor(Storage.allocateUninitialized(Shapes.numel(shape)), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    public static Tensor full(float value, int... shape) {
        return empty(shape).fill(value);
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    public static Tensor scalar(float value) {
        return full(value);
    }

    /** Copies {@code data} (row-major) into a new tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        Shapes.checkValid("of", shape);
        if (Shapes.numel(shape) != data.length) {
            throw ShapeException.of("of", data.length + " values do not fill", shape);
        }
        Tensor t = empty(shape);
        MemorySegment.copy(data, 0, t.store().segment(), FLOAT, 0, data.length);
        return t;
    }

    /** A 1-d tensor of row-major values; handy in tests. */
    public static Tensor vector(float... data) {
        return of(data, data.length);
    }

    public static Tensor arange(int n) {
        Tensor t = zeros(n);
        for (int i = 0; i < n; i++) {
            t.store().segment().setAtIndex(FLOAT, i, i);
        }
        return t;
    }

    /** A tensor over memory owned elsewhere, e.g. a memory-mapped file region, viewed with the given shape. */
    public static Tensor wrap(MemorySegment segment, int... shape) {
        Storage s = Storage.wrap(segment);
        if (s.numel() < Shapes.numel(shape)) {
            throw ShapeException.of("wrap", "segment holds only " + s.numel() + " floats", shape);
        }
        return new Tensor(s, shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** Filled from a deterministic, index-addressable initializer. */
    public static Tensor init(Init init, int... shape) {
        Tensor t = zeros(shape);
        init.fill(t, shape, new int[shape.length]);
        return t;
    }

    // ---- metadata --------------------------------------------------------------------------

    /**
     * The shape in the serial model's terms: on a ColoTensor the whole (global, unpadded) tensor's, as
     * DTensor's {@code shape}; {@link #localShape} is this rank's shard.
     */
    public final int[] shape() {
        return distribution == null ? shape.clone() : distribution.serialShape();
    }

    /** One dim of {@link #shape} (global on a ColoTensor). */
    public final int size(int dim) {
        int d = Shapes.dim("size", dim, shape.length);
        return distribution == null ? shape[d] : distribution.serialShape()[d];
    }

    /** The number of dims, the same for a shard and its whole tensor. */
    public final int dim() {
        return shape.length;
    }

    /** The element count of {@link #shape} (global on a ColoTensor). */
    public final long numel() {
        return distribution == null ? Shapes.numel(shape) : Shapes.numel(distribution.serialShape());
    }

    /** The shape of the data this tensor holds: this rank's shard on a ColoTensor, else {@link #shape}. */
    public final int[] localShape() {
        return shape.clone();
    }

    /** The element count of {@link #localShape}. */
    public final long localNumel() {
        return Shapes.numel(shape);
    }

    public final long[] strides() {
        return strides.clone();
    }

    public final long stride(int dim) {
        return strides[Shapes.dim("stride", dim, shape.length)];
    }

    /** Offset of the first element in the storage, in floats. */
    public final long offset() {
        return offset;
    }

    public final Storage storage() {
        return store();
    }

    /**
     * Frees this tensor's long-lived storage now ({@link Storage#free()}); a no-op for a lazy tensor without storage,
     * for step or wrapped memory, and when already freed. Every view of the storage fails on use afterwards.
     */
    public final void freeStorage() {
        if (storage != null) {
            storage.free();
        }
    }

    /** The storage as it is, without host access (no device sync; null while a lazy tensor has none): for memory bookkeeping. */
    public final Storage storageIfAny() {
        return storage;
    }

    /**
     * The single accessor all host data access goes through. It first lets a device mirror of the storage (an
     * OpenCL buffer, see {@link Storage.DeviceMirror}) bring newer device results back and mark its own copy
     * stale, so host code never reads stale data and device kernels never miss a host write.
     */
    private Storage store() {
        if (storage == null) {
            materialize();
            if (storage == null) {
                throw new IllegalStateException("tensor " + Shapes.format(shape) + " has no storage after materialize()");
            }
        }
        storage.beforeHostAccess();
        return storage;
    }

    /**
     * Called on first data access of a tensor created without storage (a lazily initialised
     * parameter); must call {@link #replaceData}. Plain tensors always have storage.
     */
    protected void materialize() {
        throw new IllegalStateException("tensor " + Shapes.format(shape) + " has no storage");
    }

    /** A lazily initialised tensor's future shape (e.g. its shard's) before any data exists. */
    protected final void setLazyShape(int[] newShape) {
        if (storage != null) {
            throw new IllegalStateException("setLazyShape on a tensor that already has data");
        }
        this.shape = newShape.clone();
        this.strides = Shapes.contiguousStrides(newShape);
        this.offset = 0;
    }

    /** True until a lazily initialised tensor's data is first touched. */
    public final boolean isMaterialized() {
        return storage != null;
    }

    /** The whole underlying segment; index it with {@link #offset()} and {@link #strides()}. */
    public final MemorySegment segment() {
        return store().segment();
    }

    /** The bytes of a contiguous tensor's elements, starting at its first element. */
    public final MemorySegment data() {
        if (!isContiguous()) {
            throw new IllegalStateException("data(): tensor " + Shapes.format(shape) + " is not contiguous; call contiguous() first");
        }
        return store().segment().asSlice(offset * Float.BYTES, localNumel() * Float.BYTES);
    }

    public final boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    public final boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    // ---- element access (slow path, for tests and small bookkeeping) -------------------------

    /** One element; on a ColoTensor only when every rank holds the whole tensor (else {@link #full} or {@link #local}). */
    public final float get(int... index) {
        requireWholeData("get");
        return store().segment().getAtIndex(FLOAT, elementOffset("get", index));
    }

    public final Tensor set(float value, int... index) {
        requireWholeData("set");
        store().segment().setAtIndex(FLOAT, elementOffset("set", index), value);
        return this;
    }

    public final float item() {
        requireWholeData("item");
        if (localNumel() != 1) {
            throw ShapeException.of("item", "needs exactly one element", shape);
        }
        return store().segment().getAtIndex(FLOAT, offset);
    }

    /** The elements in row-major order. */
    public final float[] toFloatArray() {
        requireWholeData("toFloatArray");
        return localFloats();
    }

    private float[] localFloats() {
        Tensor c = contiguousData();
        float[] out = new float[Math.toIntExact(c.localNumel())];
        MemorySegment.copy(c.store().segment(), FLOAT, c.offset * Float.BYTES, out, 0, out.length);
        return out;
    }

    /**
     * Element access answers in the serial model's terms, so on a ColoTensor it needs the whole tensor on
     * this rank (replicated); a shard or a partial sum is refused, saying how to reach the data.
     */
    private void requireWholeData(String op) {
        if (distribution != null && !distribution.holdsWhole()) {
            throw new IllegalStateException(op + "(): tensor " + Shapes.format(distribution.serialShape()) + " is "
                    + distribution.placement() + " (this rank holds " + Shapes.format(shape) + "): call full() for the whole tensor "
                    + "(a collective: every rank calls it) or local() for this rank's data");
        }
    }

    private long elementOffset(String op, int[] index) {
        if (index.length != shape.length) {
            throw ShapeException.of(op, "index has " + index.length + " dims", shape);
        }
        long off = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw ShapeException.of(op, "index " + Arrays.toString(index) + " out of bounds", shape);
            }
            off += index[i] * strides[i];
        }
        return off;
    }

    // ---- views -----------------------------------------------------------------------------

    private Tensor viewOf(int[] newShape, long[] newStrides, long newOffset) {
        return new Tensor(store(), newShape, newStrides, newOffset);
    }

    /**
     * A view with a new shape (one dim may be -1); the tensor must be contiguous. On a ColoTensor the
     * shape is global, as in the serial model.
     */
    public final Tensor view(int... newShape) {
        return distribution == null ? localView(newShape) : distribution.view(this, newShape);
    }

    /** {@link #view} of this tensor's own data, ignoring any distribution. */
    final Tensor localView(int... newShape) {
        int[] target = Shapes.inferView("view", shape, newShape);
        long[] viewStrides = Shapes.viewStrides(shape, strides, target);
        if (viewStrides == null) {
            throw ShapeException.of("view", "the tensor's strides do not allow this view; use reshape", shape, target);
        }
        int[] from = shape;
        Tensor out = viewOf(target, viewStrides, offset);
        return Autograd.record("view", out, g -> new Tensor[] {g.localReshape(from)}, this);
    }

    /** A view when possible, otherwise a contiguous copy with the new shape. */
    public final Tensor reshape(int... newShape) {
        return canView(newShape) ? view(newShape) : contiguous().view(newShape);
    }

    /** {@link #reshape} of this tensor's own data, ignoring any distribution. */
    final Tensor localReshape(int... newShape) {
        int[] target = Shapes.inferView("reshape", shape, newShape);
        return Shapes.viewStrides(shape, strides, target) != null ? localView(target) : contiguous().localView(target);
    }

    /**
     * Whether a (global, for a ColoTensor) view to newShape is possible without a copy of the local data. A ColoTensor's
     * view copies its local data itself where the local strides do not allow the local view (as {@link #reshape}), so
     * it always goes there: GPT-2's q, k and v, strided thirds of the fused c_attn output, stay views of it.
     */
    private boolean canView(int[] newShape) {
        if (distribution != null) {
            return true;
        }
        return Shapes.viewStrides(shape, strides, Shapes.inferView("reshape", shape, newShape)) != null;
    }

    public final Tensor flatten() {
        return reshape(-1);
    }

    public final Tensor transpose(int dim0, int dim1) {
        int a = Shapes.dim("transpose", dim0, shape.length);
        int b = Shapes.dim("transpose", dim1, shape.length);
        int[] perm = new int[shape.length];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    /** The last two dims swapped. */
    public final Tensor mT() {
        return transpose(-2, -1);
    }

    /** Dims reordered; on a ColoTensor the shard moves with its dim. */
    public final Tensor permute(int... dims) {
        return distribution == null ? localPermute(dims) : distribution.permute(this, dims);
    }

    /** {@link #permute} of this tensor's own data, ignoring any distribution. */
    final Tensor localPermute(int... dims) {
        if (dims.length != shape.length) {
            throw ShapeException.of("permute", "permutation " + Arrays.toString(dims) + " has the wrong length", shape);
        }
        int[] newShape = new int[dims.length];
        long[] newStrides = new long[dims.length];
        int[] inverse = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shapes.dim("permute", dims[i], shape.length);
            if (seen[d]) {
                throw ShapeException.of("permute", "dim " + d + " repeated in " + Arrays.toString(dims), shape);
            }
            seen[d] = true;
            newShape[i] = shape[d];
            newStrides[i] = strides[d];
            inverse[d] = i;
        }
        Tensor out = viewOf(newShape, newStrides, offset);
        return Autograd.record("permute", out, g -> new Tensor[] {g.localPermute(inverse)}, this);
    }

    /** Elements {@code start .. start+length-1} along {@code dim}, without copying (global indices on a ColoTensor). */
    public final Tensor narrow(int dim, int start, int length) {
        return distribution == null ? localNarrow(dim, start, length) : distribution.narrow(this, dim, start, length);
    }

    /** {@link #narrow} of this tensor's own data, ignoring any distribution. */
    final Tensor localNarrow(int dim, int start, int length) {
        int d = Shapes.dim("narrow", dim, shape.length);
        if (start < 0 || length < 0 || (long) start + length > shape[d]) {
            throw ShapeException.of("narrow", "range [" + start + ", " + ((long) start + length) + ") outside dim " + d, shape);
        }
        int[] newShape = shape.clone();
        newShape[d] = length;
        Tensor out = viewOf(newShape, strides.clone(), offset + start * strides[d]);
        int[] full = shape;
        return Autograd.record("narrow", out, g -> {
            Tensor gin = zeros(full);
            gin.narrowData(d, start, length).copyFrom(g);
            return new Tensor[] {gin};
        }, this);
    }

    private Tensor narrowData(int d, int start, int length) {
        int[] newShape = shape.clone();
        newShape[d] = length;
        return viewOf(newShape, strides.clone(), offset + start * strides[d]);
    }

    /** Pieces of {@code splitSize} along {@code dim} (the last may be smaller), as torch.split. */
    public final List<Tensor> split(int splitSize, int dim) {
        int d = Shapes.dim("split", dim, shape.length);
        int[] sizes = globalShape();
        if (splitSize <= 0) {
            throw ShapeException.of("split", "split size " + splitSize + " must be positive", sizes);
        }
        List<Tensor> parts = new ArrayList<>();
        for (int start = 0; start < sizes[d]; start += splitSize) {
            parts.add(narrow(d, start, Math.min(splitSize, sizes[d] - start)));
        }
        return parts;
    }

    /** {@code chunks} equal pieces along {@code dim}; the dim must divide evenly (no silent ragged chunks). */
    public final List<Tensor> chunk(int chunks, int dim) {
        int d = Shapes.dim("chunk", dim, shape.length);
        int[] sizes = globalShape();
        if (chunks <= 0 || sizes[d] % chunks != 0) {
            throw ShapeException.of("chunk", "dim " + d + " of size " + sizes[d] + " is not divisible into " + chunks + " chunks", sizes);
        }
        return split(sizes[d] / chunks, d);
    }

    public final Tensor unsqueeze(int dim) {
        int d = Shapes.dim("unsqueeze", dim, shape.length + 1);
        int[] sizes = globalShape();
        int[] newShape = new int[sizes.length + 1];
        for (int i = 0, j = 0; i < newShape.length; i++) {
            newShape[i] = i == d ? 1 : sizes[j++];
        }
        return reshape(newShape);
    }

    public final Tensor squeeze(int dim) {
        int d = Shapes.dim("squeeze", dim, shape.length);
        int[] sizes = globalShape();
        if (sizes[d] != 1) {
            throw ShapeException.of("squeeze", "dim " + d + " has size " + sizes[d] + ", not 1", sizes);
        }
        int[] newShape = new int[sizes.length - 1];
        for (int i = 0, j = 0; i < sizes.length; i++) {
            if (i != d) {
                newShape[j++] = sizes[i];
            }
        }
        return reshape(newShape);
    }

    /** Concatenation along {@code dim}; all other dims must agree. */
    public static Tensor cat(int dim, List<Tensor> tensors) {
        if (tensors.isEmpty()) {
            throw new ShapeException("cat: needs at least one tensor");
        }
        for (Tensor t : tensors) {
            if (t.distribution != null) {
                return t.distribution.cat(dim, tensors);
            }
        }
        return localCat(dim, tensors);
    }

    /** {@link #cat} of the tensors' own data, ignoring any distribution. */
    static Tensor localCat(int dim, List<Tensor> tensors) {
        if (tensors.isEmpty()) {
            throw new ShapeException("cat: needs at least one tensor");
        }
        int[] first = tensors.get(0).shape;
        int d = Shapes.dim("cat", dim, first.length);
        int total = 0;
        for (Tensor t : tensors) {
            if (t.shape.length != first.length) {
                throw ShapeException.of("cat", "tensors differ in rank", first, t.shape);
            }
            for (int i = 0; i < first.length; i++) {
                if (i != d && t.shape[i] != first[i]) {
                    throw ShapeException.of("cat", "tensors differ outside dim " + d, first, t.shape);
                }
            }
            total += t.shape[d];
        }
        int[] outShape = first.clone();
        outShape[d] = total;
        Tensor out = empty(outShape);
        int[] sizes = new int[tensors.size()];
        int start = 0;
        for (int i = 0; i < sizes.length; i++) {
            Tensor t = tensors.get(i);
            sizes[i] = t.shape[d];
            out.narrowData(d, start, sizes[i]).copyFrom(t);
            start += sizes[i];
        }
        return Autograd.record("cat", out, g -> {
            Tensor[] grads = new Tensor[sizes.length];
            int s = 0;
            for (int i = 0; i < sizes.length; i++) {
                grads[i] = g.localNarrow(d, s, sizes[i]);
                s += sizes[i];
            }
            return grads;
        }, tensors.toArray(Tensor[]::new));
    }

    public static Tensor cat(int dim, Tensor... tensors) {
        return cat(dim, List.of(tensors));
    }

    /**
     * A raw view with explicit shape, strides and offset over the same storage, as torch.as_strided.
     * Not recorded by autograd: operators that use it (broadcasting with stride 0) differentiate
     * themselves. Rejects views that would reach outside the storage.
     */
    public final Tensor asStrided(int[] newShape, long[] newStrides, long newOffset) {
        if (newShape.length != newStrides.length) {
            throw ShapeException.of("asStrided", "shape and strides differ in rank", newShape);
        }
        long last = newOffset;
        for (int i = 0; i < newShape.length; i++) {
            if (newShape[i] < 0 || newStrides[i] < 0) {
                throw ShapeException.of("asStrided", "negative size or stride", newShape);
            }
            if (newShape[i] > 0) {
                last += (newShape[i] - 1) * newStrides[i];
            }
        }
        if (newOffset < 0 || (Shapes.numel(newShape) > 0 && last >= store().numel())) {
            throw ShapeException.of("asStrided", "view reaches outside a storage of " + store().numel() + " elements", newShape);
        }
        return viewOf(newShape.clone(), newStrides.clone(), newOffset);
    }

    /** This tensor if already contiguous, else a contiguous copy (differentiable). */
    public final Tensor contiguous() {
        if (isContiguous()) {
            return this;
        }
        Tensor out = empty(shape).copyFrom(this);
        out.distribution = distribution == null ? null : distribution.forCopy();
        return Autograd.record("contiguous", out, g -> new Tensor[] {g}, this);
    }

    private Tensor contiguousData() {
        return isContiguous() ? this : empty(shape).copyFrom(this);
    }

    /** A contiguous copy that does not share storage and is not part of the graph. */
    public final Tensor copy() {
        return empty(shape).copyFrom(this);
    }

    /**
     * Whether {@link #consume} can take this tensor's memory: a plain contiguous tensor spanning the whole of its
     * storage, which is live step memory of this thread's open scope.
     */
    public final boolean canBeConsumed() {
        return storage != null && distribution == null && offset == 0 && isContiguous() && localNumel() == storage.numel()
                && storage.canHandOver();
    }

    /**
     * This tensor's memory, as a new plain tensor of its shape holding its values, for an op told its input is its own
     * to write over ({@link Storage#handOver}): this tensor and every view of its storage fail on any later access,
     * naming {@code consumer}. Only where {@link #canBeConsumed()}.
     */
    public final Tensor consume(String consumer) {
        if (!canBeConsumed()) {
            throw new IllegalStateException(consumer + " cannot consume a tensor " + Shapes.format(shape)
                    + " that is not the whole of a contiguous block of step memory");
        }
        return new Tensor(storage.handOver(consumer), shape.clone(), strides.clone(), 0);
    }

    // ---- in-place (not recorded by autograd) -------------------------------------------------

    /** Copies {@code src} (same shape, any strides) into this tensor's elements. */
    public final Tensor copyFrom(Tensor src) {
        if (!sameShape(src)) {
            throw ShapeException.of("copyFrom", "shapes differ", shape, src.shape);
        }
        checkInPlace("copyFrom");
        if (isContiguous() && src.isContiguous()) {
            Elementwise.copy(src.store().segment(), src.offset, store().segment(), offset, localNumel());
            return this;
        }
        StridedCopy.copy(src.store().segment(), src.offset, src.strides,
                store().segment(), offset, strides, shape);
        return this;
    }

    public final Tensor fill(float value) {
        checkInPlace("fill");
        if (isContiguous()) {
            long n = localNumel();
            MemorySegment seg = store().segment();
            for (long i = 0; i < n; i++) {
                seg.setAtIndex(FLOAT, offset + i, value);
            }
            return this;
        }
        StridedCopy.fill(store().segment(), offset, strides, shape, value);
        return this;
    }

    /** this += other (same shape); used for gradient accumulation and optimizer updates. */
    public final Tensor addInPlace(Tensor other) {
        if (!sameShape(other)) {
            throw ShapeException.of("addInPlace", "shapes differ", shape, other.shape);
        }
        checkInPlace("addInPlace");
        Tensor addend = other.contiguousData();
        if (isContiguous()) {
            Elementwise.addInto(addend.store().segment(), addend.offset, store().segment(), offset, localNumel());
        } else {
            Tensor sum = copy();
            Elementwise.addInto(addend.store().segment(), addend.offset, sum.store().segment(), 0, localNumel());
            copyFrom(sum);
        }
        return this;
    }

    public final Tensor scaleInPlace(float factor) {
        checkInPlace("scaleInPlace");
        if (!isContiguous()) {
            return copyFrom(copy().scaleInPlace(factor));
        }
        Elementwise.scale(store().segment(), offset, localNumel(), factor);
        return this;
    }

    private void checkInPlace(String op) {
        if (requiresGrad && gradFn == null && GradMode.isEnabled()) {
            throw new IllegalStateException(op + ": a leaf tensor that requires grad cannot be modified in place "
                    + "while grad mode is on; wrap the update in GradMode.disabled()");
        }
    }

    // ---- distribution ----------------------------------------------------------------------

    /** Whether this tensor's data is one rank's shard of a larger tensor (a ColoTensor); a field read. */
    public final boolean isDistributed() {
        return distribution != null;
    }

    /** The shape of the whole tensor this one is a shard of; its own shape when not distributed. */
    public final int[] globalShape() {
        return distribution == null ? shape.clone() : distribution.globalShape();
    }

    /**
     * This rank's data as a plain tensor (DTensor's {@code to_local()}): shares storage, no distribution, so
     * its shape, element access and ops are local; differentiable (the gradient is the shard's).
     */
    public final Tensor local() {
        if (distribution == null) {
            return this;
        }
        Tensor out = new Tensor(store(), shape, strides, offset);
        return Autograd.record("to_local", out, g -> new Tensor[] {g}, this);
    }

    /**
     * The whole tensor as a plain tensor with the serial model's values (DTensor's {@code full_tensor()}):
     * gathered or reduced over the ranks, padding dropped; differentiable. On a ColoTensor it is a
     * collective (every rank of its group calls it, in the same order); a plain tensor returns itself.
     */
    public final Tensor full() {
        return distribution == null ? this : distribution.full(this);
    }

    // ---- autograd ----------------------------------------------------------------------------

    public final boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing a gradient. */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null && !value) {
            throw new IllegalStateException("requiresGrad(false) on a non-leaf tensor; use detach()");
        }
        this.requiresGrad = value;
        return this;
    }

    public final Tensor grad() {
        return grad;
    }

    public final void setGrad(Tensor grad) {
        if (grad != null && !sameShape(grad)) {
            throw ShapeException.of("setGrad", "gradient shape differs from the tensor", shape, grad.shape);
        }
        releaseOwnedGrad();
        this.grad = grad;
    }

    /** Used by {@link Autograd} only: installs a gradient it allocated, which zeroGrad may free. */
    public final void adoptGrad(Tensor allocated) {
        setGrad(allocated);
        this.ownsGrad = true;
    }

    /** Drops the gradient (torch's zero_grad(set_to_none=True)), freeing it now if autograd made it. */
    public final void zeroGrad() {
        releaseOwnedGrad();
        this.grad = null;
    }

    private void releaseOwnedGrad() {
        if (ownsGrad && grad != null) {
            grad.freeStorage();
        }
        ownsGrad = false;
    }

    /** Runs {@code hook} each time backward adds to this leaf's gradient (e.g. to all-reduce it over dp). */
    public final void addGradHook(Consumer<Tensor> hook) {
        List<Consumer<Tensor>> hooks = new ArrayList<>(gradHooks);
        hooks.add(hook);
        gradHooks = List.copyOf(hooks);
    }

    /**
     * From now on backward does not add into this leaf's gradient (its hooks still run): for a sizing proxy whose
     * gradients are zeros by construction, where each add would be a pass over memory that changes nothing.
     */
    public final void skipGradAccumulation() {
        this.gradAccumulationSkipped = true;
    }

    /** Used by {@link Autograd} only: whether {@link #skipGradAccumulation()} was called. */
    public final boolean gradAccumulationSkipped() {
        return gradAccumulationSkipped;
    }

    /** Used by {@link Autograd} only, after a gradient was accumulated into this leaf. */
    public final void onGradAccumulated() {
        for (Consumer<Tensor> hook : gradHooks) {
            hook.accept(this);
        }
    }

    public final GradFn gradFn() {
        return gradFn;
    }

    public final boolean isLeaf() {
        return gradFn == null;
    }

    /** Used by {@link Autograd} only: makes this tensor the output of {@code fn}. */
    public final void attachGradFn(GradFn fn) {
        this.gradFn = fn;
        this.requiresGrad = true;
    }

    /** Shares storage; drops the graph and any distribution (the shard as a plain tensor). */
    public final Tensor detach() {
        return new Tensor(store(), shape, strides, offset);
    }

    /** Backpropagates from a scalar. */
    public final void backward() {
        if (localNumel() != 1) {
            throw ShapeException.of("backward", "implicit gradient only for a scalar output; pass a gradient", shape);
        }
        Autograd.backward(this, ones(shape));
    }

    public final void backward(Tensor gradient) {
        Autograd.backward(this, gradient);
    }

    /**
     * Replaces the data this tensor views, keeping its identity (autograd, names in a module tree):
     * how a parameter is swapped for its shard, as torch's {@code param.data = ...}.
     */
    protected final void replaceData(Tensor source) {
        this.storage = source.store();
        this.shape = source.shape.clone();
        this.strides = source.strides.clone();
        this.offset = source.offset;
        zeroGrad();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(Shapes.format(shape));
        if (localNumel() <= 16) {
            sb.append(Arrays.toString(localFloats()));
        }
        if (distribution != null) {
            sb.append(" dist=").append(distribution);
        }
        if (gradFn != null) {
            sb.append(" grad_fn=").append(gradFn.name());
        } else if (requiresGrad) {
            sb.append(" requires_grad");
        }
        return sb.toString();
    }
}

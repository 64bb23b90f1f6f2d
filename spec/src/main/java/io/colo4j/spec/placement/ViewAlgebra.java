package io.colo4j.spec.placement;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.PlacementKind;
import io.colo4j.spec.ShardSpec;
import io.colo4j.spec.SpecException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The placement algebra of the view-family ops (view/reshape/flatten/unflatten/squeeze/unsqueeze,
 * permute/transpose, narrow/split/chunk, cat) on a distributed tensor, after DTensor's
 * {@code view_groups} and ColossalAI's ColoTensor.
 *
 * <p>Model code is written as for the serial model, so every op here takes GLOBAL arguments (the
 * global shape, global dims and indices). Given the input's global shape, its {@link DistSpec}
 * and the tp group size, each method says either how to run the op on every rank's local shard
 * (the local arguments, the output spec and the output's global and local shapes), or that it
 * cannot run locally ({@link NotLocal}) and which input specs would make it local (always
 * replicate: the dispatcher redistributes first and then calls again).
 *
 * <h2>view</h2>
 * The reshape is cut into groups: runs of input dims and runs of output dims with equal products
 * (the minimal such runs; size-1 dims join a neighbouring group). Replicate and partial pass
 * through. Within a group the elements are one row-major run, so a dim {@code d} sharded into
 * {@code n} parts with stride {@code s} reads, over the group, as {@code (A, s, n, q, C)}: {@code A}
 * the product of the group's input dims before {@code d}, {@code q = size/(s n)}, {@code C} the
 * product of those after. The shard is local iff some output dim {@code j} of the group reads as
 * {@code (A', s', n, q', C')} with the {@code n} at the same place, i.e. {@code A' s' = A s}
 * ({@code A'} the product of the group's output dims before {@code j}) and {@code s' n} divides
 * the size of {@code j}; the output is then dim {@code j}, {@code n} parts, stride {@code s'}. That
 * is DTensor's rule and its strided generalisation:
 * <ul>
 *   <li>split {@code D -> (H, hd)} of a plain shard: it moves to the first non-1 output dim,
 *       which must be divisible by {@code n};</li>
 *   <li>merge {@code (H, hd) -> D}: a shard on the outermost non-1 dim stays a plain shard; a
 *       shard on an inner dim becomes a strided shard with stride the product of the outer dims
 *       ({@code (3, D sharded) -> 3D} is stride 3);</li>
 *   <li>a strided shard {@code (s)} on {@code D} behaves as a plain shard of the inner factor of
 *       {@code (s, D/s)}: {@code [B,T,3D] (stride 3) -> [B,T,3,D]} shards dim 3 plainly.</li>
 * </ul>
 * Several sharded dims are followed independently and keep their order in the spec (the rank's
 * mixed-radix digits); two that would land on one output dim make the view not local.
 *
 * <h2>permute</h2> Sharded dims move with the permutation; parts and strides are kept.
 *
 * <h2>narrow</h2> An unsharded dim keeps the spec and the same local (start, length). A dim
 * sharded into {@code n} parts with stride {@code s} is viewed as {@code s} blocks of
 * {@code size/s}; a narrow selecting whole blocks ({@code qkv.split(D, -1)} on a stride-3 fused
 * output) stays sharded with stride {@code length/block}, locally narrowing whole local blocks of
 * {@code size/(s n)}; any other narrow of a sharded dim is not local.
 *
 * <h2>cat</h2> All inputs must have the same kind. Replicas and partial sums cat locally. Shards
 * must be sharded alike (same dims, parts, and strides off the cat dim): along an unsharded dim
 * the spec is kept; along the sharded dim the inputs' blocks ({@code size/stride}) must have one
 * length, and the output's stride is the sum of the inputs' ({@code cat(q, k, v)} of plain shards
 * is stride 3, since {@code [q_r | k_r | v_r]} is exactly the local cat).
 *
 * <p>Conventions: dims in the given specs and arguments may be negative; every output spec has
 * non-negative dims. A shard entry of one part cuts nothing; it is carried along where it fits
 * and otherwise moved to a free output dim (stride 1) or dropped, so over one rank every op is
 * local. Bad arguments (a bad shape, two {@code -1}s, a numel mismatch, a spec that does not fit
 * the input, an out-of-range dim or range) throw a {@link SpecException}; a valid op that cannot
 * run locally returns {@link NotLocal}. Both messages name the tensor, the shapes, the spec and
 * the group size.
 */
public final class ViewAlgebra {

    private ViewAlgebra() {}

    // ------------------------------------------------------------------------------------ view

    /**
     * A view (also reshape, flatten, unflatten, squeeze, unsqueeze) of a distributed tensor.
     *
     * @param tensorName for messages
     * @param globalIn the input's global shape
     * @param spec the input's spec
     * @param groupSize the tp group size
     * @param globalOut the requested global output shape, as torch's view: at most one {@code -1}
     */
    public static LocalPlan<LocalView> view(
            String tensorName, int[] globalIn, DistSpec spec, int groupSize, int[] globalOut) {
        String name = nameOf(tensorName);
        if (globalIn == null || globalOut == null) {
            throw new SpecException("view of tensor " + name + " as " + spec + " over " + groupSize
                    + " ranks needs both shapes, got " + Arrays.toString(globalIn) + " -> "
                    + Arrays.toString(globalOut));
        }
        String ctx = "view of " + describe(name, globalIn, spec, groupSize) + " to " + Arrays.toString(globalOut);
        ShardLayout inLayout = bind(ctx, name, globalIn, spec, groupSize);
        long numel = inLayout.globalNumel();
        int[] out = resolveViewShape(ctx, numel, globalOut);
        if (!Arrays.equals(out, globalOut)) {
            ctx = ctx + " (= " + Arrays.toString(out) + ")";
        }
        int[] in = inLayout.globalShape();
        if (!(spec instanceof ShardSpec shard)) {
            return new LocalView(PlacedShape.whole(spec, out));
        }

        List<Group> groups = groups(in, out, numel);
        int[] groupOf = new int[in.length];
        for (int g = 0; g < groups.size(); g++) {
            for (int d = groups.get(g).inFrom; d < groups.get(g).inTo; d++) {
                groupOf[d] = g;
            }
        }
        int entries = shard.rank();
        int[] outDims = new int[entries];
        int[] outStrides = new int[entries];
        boolean[] kept = new boolean[entries];
        boolean[] used = new boolean[out.length];

        // Real cuts first: they decide locality. One-part entries then take what is left.
        for (int e = 0; e < entries; e++) {
            int n = shard.numPartitions(e);
            if (n == 1) {
                continue;
            }
            int d = Dims.resolve(shard.dim(e), in.length);
            int s = shard.stride(e);
            if (numel == 0) {
                return notLocalView(ctx, "the tensor has no elements, so the shard of input dim " + d
                        + " cannot be followed through the reshape");
            }
            Group g = groups.get(groupOf[d]);
            Target t = target(in, out, g, d, s, n);
            if (t.dim < 0 || !t.fits) {
                return notLocalView(ctx, "the shard of input dim " + d + " (size " + in[d] + ", " + n + " parts"
                        + strideText(s) + ") would land on "
                        + (t.dim < 0 ? "no output dim" : "output dim " + t.dim + " (size " + out[t.dim] + ")")
                        + ", " + t.whyNot(out, n) + " (reshape group: input dims " + g.inText(in)
                        + " -> output dims " + g.outText(out) + ")");
            }
            if (used[t.dim]) {
                return notLocalView(ctx, "two sharded input dims would land on output dim " + t.dim + " (size "
                        + out[t.dim] + "), and one dim holds one shard");
            }
            used[t.dim] = true;
            outDims[e] = t.dim;
            outStrides[e] = t.stride;
            kept[e] = true;
        }
        for (int e = 0; e < entries; e++) {
            if (shard.numPartitions(e) != 1) {
                continue;
            }
            int d = Dims.resolve(shard.dim(e), in.length);
            Group g = groups.get(groupOf[d]);
            Target t = target(in, out, g, d, shard.stride(e), 1);
            if (t.dim >= 0 && t.fits && !used[t.dim]) {
                outDims[e] = t.dim;
                outStrides[e] = t.stride;
                kept[e] = true;
                used[t.dim] = true;
                continue;
            }
            for (int o = g.outFrom; o < g.outTo; o++) {
                if (!used[o]) {
                    outDims[e] = o;
                    outStrides[e] = 1;
                    kept[e] = true;
                    used[o] = true;
                    break;
                }
            }
        }
        DistSpec outSpec = shardSpec(shard, kept, outDims, outStrides, out.length);
        ShardLayout outLayout = bindOutput(ctx, name, out, outSpec, groupSize);
        if (outLayout.localNumel() != inLayout.localNumel()) {
            throw new IllegalStateException(ctx + ": local numel " + inLayout.localNumel() + " became "
                    + outLayout.localNumel() + " as " + outSpec);
        }
        return new LocalView(outLayout.placed());
    }

    /**
     * Resolves a requested view shape (at most one {@code -1}) against a numel, as torch's view;
     * throws a {@link SpecException} naming the tensor if it does not fit.
     */
    public static int[] resolveViewShape(String tensorName, int[] globalIn, int[] requested) {
        String name = nameOf(tensorName);
        if (globalIn == null || requested == null) {
            throw new SpecException("view of tensor " + name + " needs both shapes, got " + Arrays.toString(globalIn)
                    + " -> " + Arrays.toString(requested));
        }
        String ctx = "view of tensor " + name + " " + Arrays.toString(globalIn) + " to " + Arrays.toString(requested);
        long numel = 1;
        for (int size : globalIn) {
            if (size < 0) {
                throw new SpecException(ctx + ": the input has a negative size");
            }
            numel = Math.multiplyExact(numel, size);
        }
        return resolveViewShape(ctx, numel, requested);
    }

    private static int[] resolveViewShape(String ctx, long numel, int[] requested) {
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < requested.length; i++) {
            int size = requested[i];
            if (size == -1) {
                if (inferred >= 0) {
                    throw new SpecException(ctx + ": only one dim can be -1, got dims " + inferred + " and " + i);
                }
                inferred = i;
            } else if (size < 0) {
                throw new SpecException(ctx + ": invalid size " + size + " at dim " + i);
            } else {
                known = Math.multiplyExact(known, size);
            }
        }
        int[] out = requested.clone();
        if (inferred >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new SpecException(ctx + ": cannot infer the -1 dim, the other dims multiply to " + known
                        + " and the input has " + numel + " elements");
            }
            long size = numel / known;
            if (size > Integer.MAX_VALUE) {
                throw new SpecException(ctx + ": the inferred size " + size + " overflows an int");
            }
            out[inferred] = (int) size;
        } else if (known != numel) {
            throw new SpecException(ctx + ": the shape has " + known + " elements, the input has " + numel);
        }
        return out;
    }

    /** A contiguous run of input dims {@code [inFrom, inTo)} and of output dims with equal products. */
    private record Group(int inFrom, int inTo, int outFrom, int outTo) {
        String inText(int[] in) {
            return "[" + inFrom + ".." + inTo + ") " + Arrays.toString(Arrays.copyOfRange(in, inFrom, inTo));
        }

        String outText(int[] out) {
            return "[" + outFrom + ".." + outTo + ") " + Arrays.toString(Arrays.copyOfRange(out, outFrom, outTo));
        }
    }

    /** Minimal groups of equal products; size-1 dims join the group they are met in. */
    private static List<Group> groups(int[] in, int[] out, long numel) {
        if (numel == 0) {
            return List.of(new Group(0, in.length, 0, out.length));
        }
        List<Group> groups = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < in.length || j < out.length) {
            int inFrom = i;
            int outFrom = j;
            long pin = 1;
            long pout = 1;
            if (i < in.length) {
                pin *= in[i++];
            }
            if (j < out.length) {
                pout *= out[j++];
            }
            while (pin != pout) {
                if (pin < pout) {
                    pin *= in[i++];
                } else {
                    pout *= out[j++];
                }
            }
            groups.add(new Group(inFrom, i, outFrom, j));
        }
        return groups;
    }

    /**
     * Where the cut of input dim {@code d} ({@code n} parts, stride {@code s}) lands in its group:
     * the output dim whose run contains flat offset {@code A s}, the stride {@code A s / A'} it
     * would have there, and whether that is a whole, even split.
     */
    private record Target(int dim, int stride, boolean fits, long cut, long before) {
        String whyNot(int[] out, int n) {
            if (dim < 0) {
                return "so it has nowhere to go";
            }
            if (cut % before != 0) {
                return "where the shard's cut would fall part-way through an index of output dim " + dim + ": the dims before the cut"
                        + " multiply to " + cut + ", the output dims before " + dim + " to " + before
                        + ", which does not divide it";
            }
            long blocks = cut / before;
            return "which would have to split " + (blocks == 1 ? "" : "each of " + blocks + " blocks ") + "into " + n
                    + " even parts, but " + out[dim] + " is not divisible by " + blocks * n;
        }
    }

    private static Target target(int[] in, int[] out, Group g, int d, int s, int n) {
        long outer = 1;
        for (int k = g.inFrom; k < d; k++) {
            outer *= in[k];
        }
        long cut = outer * s;
        long before = 1;
        for (int o = g.outFrom; o < g.outTo; o++) {
            long after = before * out[o];
            if (before <= cut && cut < after) {
                boolean whole = cut % before == 0;
                long stride = whole ? cut / before : 0;
                boolean fits = whole && out[o] % (stride * n) == 0;
                return new Target(o, (int) stride, fits, cut, before);
            }
            before = after;
        }
        return new Target(-1, 0, false, cut, before);
    }

    private static LocalPlan<LocalView> notLocalView(String ctx, String why) {
        return new NotLocal<>("view", ctx + ": " + why + "; replicate the input first",
                List.of(DistSpec.replicate()));
    }

    private static DistSpec shardSpec(ShardSpec in, boolean[] kept, int[] dims, int[] strides, int outRank) {
        int count = 0;
        for (boolean k : kept) {
            if (k) {
                count++;
            }
        }
        if (count == 0) {
            // Only one-part entries, none of which found a dim: nothing is cut anyway (one rank).
            return outRank == 0 ? DistSpec.replicate() : ShardSpec.of(0, 1);
        }
        int[] newDims = new int[count];
        int[] newParts = new int[count];
        int[] newStrides = new int[count];
        int k = 0;
        for (int e = 0; e < kept.length; e++) {
            if (kept[e]) {
                newDims[k] = dims[e];
                newParts[k] = in.numPartitions(e);
                newStrides[k] = strides[e];
                k++;
            }
        }
        return new ShardSpec(newDims, newParts, newStrides);
    }

    // --------------------------------------------------------------------------------- permute

    /** {@link #permute(String, DistSpec, int, int[])} for an unnamed tensor. */
    public static DistSpec permute(DistSpec spec, int rank, int[] perm) {
        return permute("<unnamed>", spec, rank, perm);
    }

    /**
     * The spec of {@code x.permute(perm)} for a {@code rank}-d tensor laid out as {@code spec}:
     * sharded dims move with the permutation (output dim {@code i} is input dim {@code perm[i]}),
     * parts and strides are kept, dims come out non-negative. Always local: permute each rank's
     * shard by the same {@code perm}.
     */
    public static DistSpec permute(String tensorName, DistSpec spec, int rank, int[] perm) {
        String name = nameOf(tensorName);
        String ctx = "permute of tensor " + name + " (" + rank + "-d, " + spec + ") by " + Arrays.toString(perm);
        if (spec == null) {
            throw new SpecException(ctx + ": needs a dist spec");
        }
        if (perm == null || rank < 0 || perm.length != rank) {
            throw new SpecException(ctx + ": the permutation needs one entry per dim");
        }
        int[] inverse = new int[rank];
        Arrays.fill(inverse, -1);
        for (int i = 0; i < rank; i++) {
            int p = perm[i];
            int d = Dims.resolve(p, rank);
            if (d < 0 || d >= rank) {
                throw new SpecException(ctx + ": dim " + p + " is out of range");
            }
            if (inverse[d] >= 0) {
                throw new SpecException(ctx + ": dim " + p + " appears twice");
            }
            inverse[d] = i;
        }
        if (!(spec instanceof ShardSpec shard)) {
            return spec;
        }
        int[] dims = new int[shard.rank()];
        for (int e = 0; e < dims.length; e++) {
            int given = shard.dim(e);
            int d = Dims.resolve(given, rank);
            if (d < 0 || d >= rank) {
                throw new SpecException(ctx + ": the spec's dim " + given + " is out of range");
            }
            dims[e] = inverse[d];
        }
        return new ShardSpec(dims, shard.numPartitions(), shard.strides());
    }

    /** The spec of {@code x.transpose(dim0, dim1)}: a permute swapping two dims. */
    public static DistSpec transpose(DistSpec spec, int rank, int dim0, int dim1) {
        String ctx = "transpose of a " + rank + "-d tensor (" + spec + ") of dims " + dim0 + " and " + dim1;
        int d0 = Dims.resolveInRange(ctx, dim0, rank);
        int d1 = Dims.resolveInRange(ctx, dim1, rank);
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) {
            perm[i] = i;
        }
        perm[d0] = d1;
        perm[d1] = d0;
        return permute(spec, rank, perm);
    }

    // ---------------------------------------------------------------------------------- narrow

    /**
     * {@code x.narrow(dim, start, length)} on a distributed tensor, with global arguments;
     * {@code start} may be negative (counted from the end, as torch). Split and chunk are narrows.
     */
    public static LocalPlan<LocalNarrow> narrow(
            String tensorName, int[] globalShape, DistSpec spec, int groupSize, int dim, int start, int length) {
        String name = nameOf(tensorName);
        if (globalShape == null) {
            throw new SpecException("narrow of tensor " + name + " as " + spec + " over " + groupSize
                    + " ranks needs a global shape");
        }
        String ctx = "narrow of " + describe(name, globalShape, spec, groupSize) + " along dim " + dim + " from "
                + start + " for " + length;
        ShardLayout inLayout = bind(ctx, name, globalShape, spec, groupSize);
        int[] shape = inLayout.globalShape();
        if (shape.length == 0) {
            throw new SpecException(ctx + ": cannot narrow a 0-d tensor");
        }
        int d = Dims.resolveInRange(ctx, dim, shape.length);
        int size = shape[d];
        int first = start < 0 ? start + size : start;
        if (first < 0 || length < 0 || (long) first + length > size) {
            throw new SpecException(ctx + ": [" + start + ", " + start + " + " + length + ") is out of range for dim "
                    + d + " of size " + size);
        }
        int[] out = shape.clone();
        out[d] = length;
        if (!(spec instanceof ShardSpec shard)) {
            return new LocalNarrow(PlacedShape.whole(spec, out), d, first, length);
        }
        int[] dims = Dims.resolveAll(shard, shape.length);
        int[] strides = shard.strides();
        int entry = indexOf(dims, d);
        int localStart = first;
        int localLength = length;
        if (entry >= 0 && size > 0) {
            int n = shard.numPartitions(entry);
            int s = shard.stride(entry);
            int block = size / s;
            boolean wholeBlocks = first % block == 0 && length % block == 0;
            if (length == 0) {
                // Nothing selected: an empty narrow of every shard, whatever the blocks.
                localStart = 0;
            } else if (n > 1) {
                int piece = block / n; // what each rank holds of every block
                if (!wholeBlocks) {
                    return new NotLocal<>("narrow", ctx + ": dim " + d + " is sharded into " + n + " parts"
                            + strideText(s) + ", each rank holding " + piece + " of every block of " + block
                            + "; [" + first + ", " + (first + length) + ") does not select whole blocks, so the ranks"
                            + " would hold uneven pieces; replicate the input first",
                            List.of(DistSpec.replicate()));
                }
                localStart = first / block * piece;
                localLength = length / block * piece;
            }
            strides[entry] = wholeBlocks && length > 0 ? length / block : 1;
        }
        DistSpec outSpec = new ShardSpec(dims, shard.numPartitions(), strides);
        ShardLayout outLayout = bindOutput(ctx, name, out, outSpec, groupSize);
        return new LocalNarrow(outLayout.placed(), d, localStart, localLength);
    }

    // ------------------------------------------------------------------------------------- cat

    /**
     * {@code torch.cat(inputs, dim)} of distributed tensors, with global shapes; {@code name}
     * names the op's inputs in messages (input {@code i} is {@code name[i]}).
     */
    public static LocalPlan<LocalCat> cat(
            String name, List<int[]> globalShapes, List<DistSpec> specs, int groupSize, int dim) {
        String tensors = nameOf(name);
        if (globalShapes == null || specs == null) {
            throw new SpecException("cat of tensors " + tensors + " over " + groupSize
                    + " ranks needs shapes and specs");
        }
        String ctx = "cat of tensors " + tensors + " " + shapesText(globalShapes) + " as " + specs + " over "
                + groupSize + " ranks along dim " + dim;
        if (globalShapes.isEmpty() || globalShapes.size() != specs.size()) {
            throw new SpecException(ctx + ": needs at least one input and one spec per input");
        }
        List<ShardLayout> layouts = new ArrayList<>(globalShapes.size());
        for (int i = 0; i < globalShapes.size(); i++) {
            if (globalShapes.get(i) == null) {
                throw new SpecException(ctx + ": input " + i + " has no shape");
            }
            layouts.add(bind(ctx, tensors + "[" + i + "]", globalShapes.get(i), specs.get(i), groupSize));
        }
        int[] first = layouts.getFirst().globalShape();
        int rank = first.length;
        if (rank == 0) {
            throw new SpecException(ctx + ": cannot cat 0-d tensors");
        }
        int d = Dims.resolveInRange(ctx, dim, rank);
        long total = 0;
        for (int i = 0; i < layouts.size(); i++) {
            int[] shape = layouts.get(i).globalShape();
            if (shape.length != rank) {
                throw new SpecException(ctx + ": input " + i + " is " + shape.length + "-d, input 0 is " + rank + "-d");
            }
            for (int k = 0; k < rank; k++) {
                if (k != d && shape[k] != first[k]) {
                    throw new SpecException(ctx + ": input " + i + " has size " + shape[k] + " at dim " + k
                            + ", input 0 has " + first[k] + "; only dim " + d + " may differ");
                }
            }
            total += shape[d];
        }
        if (total > Integer.MAX_VALUE) {
            throw new SpecException(ctx + ": the concatenated dim " + d + " has " + total + " elements, over an int");
        }
        int[] out = first.clone();
        out[d] = (int) total;

        PlacementKind kind = specs.getFirst().kind();
        boolean sameKind = specs.stream().allMatch(s -> s.kind() == kind);
        LocalPlan<LocalCat> plan;
        if (!sameKind) {
            plan = notLocalCat(ctx, specs.size(), "the inputs are " + specs.stream().map(DistSpec::kind).toList()
                    + "; a local cat needs one kind for all");
        } else if (kind != PlacementKind.SHARD) {
            plan = new LocalCat(PlacedShape.whole(specs.getFirst(), out), d);
        } else {
            plan = shardCat(ctx, tensors, layouts, specs, groupSize, d, out);
        }
        if (!plan.isLocal() && groupSize == 1) {
            // Over one rank every input is whole: the local cat is the global one.
            return new LocalCat(PlacedShape.whole(DistSpec.replicate(), out), d);
        }
        return plan;
    }

    private static LocalPlan<LocalCat> shardCat(String ctx, String name, List<ShardLayout> layouts,
            List<DistSpec> specs, int groupSize, int d, int[] out) {
        int rank = out.length;
        ShardSpec first = (ShardSpec) specs.getFirst();
        int[] dims = Dims.resolveAll(first, rank);
        int entry = indexOf(dims, d);
        for (int i = 1; i < specs.size(); i++) {
            ShardSpec other = (ShardSpec) specs.get(i);
            boolean alike = other.rank() == first.rank()
                    && Arrays.equals(Dims.resolveAll(other, rank), dims)
                    && Arrays.equals(other.numPartitions(), first.numPartitions());
            for (int e = 0; alike && e < dims.length; e++) {
                alike = e == entry || other.stride(e) == first.stride(e);
            }
            if (!alike) {
                return notLocalCat(ctx, specs.size(), "input " + i + " is " + other + " and input 0 is " + first
                        + "; a local cat needs the same shard on every input (only strides along dim " + d
                        + " may differ)");
            }
        }
        int[] strides = first.strides();
        if (entry >= 0) {
            int n = first.numPartitions(entry);
            int strideSum = 0;
            long[] blocks = new long[specs.size()];
            boolean sameBlock = true;
            for (int i = 0; i < specs.size(); i++) {
                int s = ((ShardSpec) specs.get(i)).stride(entry);
                strideSum += s;
                blocks[i] = layouts.get(i).globalShape()[d] / s;
                sameBlock &= blocks[i] == blocks[0];
            }
            if (!sameBlock && n > 1) {
                return notLocalCat(ctx, specs.size(), "dim " + d + " is sharded into " + n
                        + " parts and the inputs' blocks along it (size / stride) are " + Arrays.toString(blocks)
                        + " long; a local cat needs blocks of one length, which the output then has "
                        + "(stride = the sum of the inputs' strides)");
            }
            strides[entry] = sameBlock ? strideSum : 1;
        }
        DistSpec outSpec = new ShardSpec(dims, first.numPartitions(), strides);
        ShardLayout outLayout = bindOutput(ctx, name, out, outSpec, groupSize);
        long localSum = 0;
        for (ShardLayout layout : layouts) {
            localSum += layout.localShape()[d];
        }
        if (localSum != outLayout.localShape()[d]) {
            throw new IllegalStateException(ctx + ": the local cat has " + localSum + " along dim " + d + " but "
                    + outSpec + " needs " + outLayout.localShape()[d]);
        }
        return new LocalCat(outLayout.placed(), d);
    }

    private static LocalPlan<LocalCat> notLocalCat(String ctx, int inputs, String why) {
        return new NotLocal<>("cat", ctx + ": " + why + "; replicate the inputs first",
                Collections.nCopies(inputs, DistSpec.replicate()));
    }

    // --------------------------------------------------------------------------------- helpers

    private static String nameOf(String tensorName) {
        return tensorName == null ? "<unnamed>" : tensorName;
    }

    private static String describe(String name, int[] shape, DistSpec spec, int groupSize) {
        return "tensor " + name + " " + Arrays.toString(shape) + " as " + spec + " over " + groupSize + " ranks";
    }

    private static String shapesText(List<int[]> shapes) {
        return shapes.stream().map(Arrays::toString).toList().toString();
    }

    private static String strideText(int stride) {
        return stride == 1 ? "" : ", stride " + stride;
    }

    private static ShardLayout bind(String ctx, String name, int[] shape, DistSpec spec, int groupSize) {
        try {
            return ShardLayout.of(name, shape, spec, groupSize);
        } catch (SpecException e) {
            throw new SpecException(ctx + ": " + e.getMessage(), e);
        }
    }

    /** Binds an output this class computed; failing is a bug here, not bad input. */
    private static ShardLayout bindOutput(String ctx, String name, int[] shape, DistSpec spec, int groupSize) {
        try {
            return ShardLayout.of(name, shape, spec, groupSize);
        } catch (SpecException e) {
            throw new IllegalStateException(ctx + ": computed an output layout that does not bind: "
                    + e.getMessage(), e);
        }
    }

    private static int indexOf(int[] values, int value) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == value) {
                return i;
            }
        }
        return -1;
    }
}

package io.colo4j.zoo.io;

import io.colo4j.spec.placement.IndexRange;
import io.colo4j.spec.placement.ShardLayout;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.Shards;
import io.colo4j.tensor.nn.Module;
import io.colo4j.tensor.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoint tensors into parameters that may be shards: each rank reads, from the memory-mapped
 * file, only the blocks its shard holds (a strided fused weight is several blocks); padding rows stay
 * zero and are never looked for in the file.
 */
public final class ShardReads {
    private ShardReads() {}

    /** Reads file tensor {@code name} (the whole, unpadded parameter) into {@code p}, or into its shard. */
    public static void readParameter(SafeTensorsReader reader, String name, Parameter p) throws SafeTensorsException {
        if (!(p instanceof ColoParameter colo) || colo.context().tpSize() == 1 || colo.isReplicated()) {
            if (p instanceof ColoParameter && !p.isMaterialized()) {
                allocate(p, p.fullShape());
            }
            reader.readInto(name, p);
            return;
        }
        ShardLayout layout = io.colo4j.tensor.colo.ColoTensor.dist(colo).layout(name);
        if (!p.isMaterialized()) {
            allocate(p, layout.localShape());
        }
        readBlocks(reader, name, p, layout, colo.context().tpRank(), layout.shardedDimIndices(), 0,
                new int[p.fullShape().length], p.fullShape());
    }

    private static void allocate(Parameter p, int[] shape) {
        try (MemoryScope persistent = MemoryScope.persistent()) {
            p.setData(Tensor.zeros(shape));
        }
    }

    private static void readBlocks(SafeTensorsReader reader, String name, Tensor local, ShardLayout layout, int rank,
                                   int[] dims, int which, int[] offset, int[] valid) throws SafeTensorsException {
        if (which == dims.length) {
            Tensor region = local;
            for (int d = 0; d < valid.length; d++) {
                int inside = Math.max(0, Math.min(region.localShape()[d], valid[d] - offset[d]));
                if (inside == 0) {
                    return;
                }
                region = region.detach().narrow(d, 0, inside);
            }
            reader.readBlock(name, offset, region);
            return;
        }
        int dim = dims[which];
        int localStart = 0;
        List<IndexRange> ranges = layout.ranges(rank, dim);
        for (IndexRange r : ranges) {
            int[] next = offset.clone();
            next[dim] = r.start();
            readBlocks(reader, name, local.detach().narrow(dim, localStart, r.length()), layout, rank, dims, which + 1, next, valid);
            localStart += r.length();
        }
    }

    /** Every planned file tensor (parameter name -> file tensor name) into its parameter, or its shard. */
    public static void readPlanned(SafeTensorsReader reader, Map<String, String> plan, Module model) throws SafeTensorsException {
        Map<String, Parameter> params = model.namedParameters();
        for (Map.Entry<String, String> e : plan.entrySet()) {
            readParameter(reader, e.getValue(), params.get(e.getKey()));
        }
    }

    /** Each parameter's whole, unpadded shape: what a checkpoint file holds for it, whatever the rank keeps. */
    public static Map<String, int[]> fullShapes(Module model) {
        Map<String, int[]> out = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> out.put(name, p.fullShape()));
        return out;
    }

    /** The part of {@code full} (shaped like the whole unpadded parameter) that {@code p}'s shard holds. */
    public static Tensor sliceLike(Tensor full, Parameter p) {
        if (!(p instanceof ColoParameter colo) || colo.isReplicated() || colo.context().tpSize() == 1) {
            return full;
        }
        int[] global = io.colo4j.tensor.colo.ColoTensor.dist(colo).globalShape();
        Tensor padded = full;
        if (!java.util.Arrays.equals(full.shape(), global)) {
            padded = Tensor.zeros(global);
            Tensor region = padded;
            int[] shape = full.shape();
            for (int d = 0; d < shape.length; d++) {
                region = region.narrow(d, 0, shape[d]);
            }
            region.copyFrom(full);
        }
        return Shards.slice(padded, io.colo4j.tensor.colo.ColoTensor.dist(colo).layout(p.name()), colo.context().tpRank());
    }
}

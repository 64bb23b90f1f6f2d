package io.colo4j.tensor.colo;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.spec.placement.Redistribution;
import io.colo4j.tensor.Storage;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.autograd.Recompute;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Megatron's column input under sequence parallelism with selective recompute: the layer keeps the sequence shard, not
 * the gathered whole. A shared gather ({@link Redistributor#sharedGatherFromSpRegion}) made inside a layer's forward
 * from a shard made there too is given back when that layer's forward ends ({@link Recompute#atEndOfLayer}), provided
 * every consumer of it is a linear that knows to ask here ({@link #readBy}); the first such linear's backward gathers
 * the shard again ({@link #whole}, traced as a backward all-gather) and the last one gives that copy back
 * ({@link #readDone}). The partial gradients still meet at the one shared region and are reduce-scattered once (q, k
 * and v share it). The bits are the forward's: an all-gather of the same shard, read by the same kernel calls.
 * Everything else (no sequence parallelism, recompute none or full, a consumer that is not a linear) keeps the
 * gathered whole as before.
 */
public final class RegatheredInputs {
    private RegatheredInputs() {}

    /** Per rank (thread): the gathered storages that may be re-gathered, weakly, so an abandoned step leaves nothing. */
    private static final ThreadLocal<Map<Storage, Region>> REGIONS = ThreadLocal.withInitial(WeakHashMap::new);

    /** One gathered region: how to gather it again, and who reads it. */
    private static final class Region {
        final Tensor shard;
        final Tensor gathered;
        final Redistribution plan;
        final DistContext ctx;
        final String module;
        final String op;
        int uses;
        int readers;
        int readersDone;
        boolean givenBack;
        Tensor again;

        Region(Tensor shard, Tensor gathered, Redistribution plan, DistContext ctx, String module, String op) {
            this.shard = shard;
            this.gathered = gathered;
            this.plan = plan;
            this.ctx = ctx;
            this.module = module;
            this.op = op;
        }
    }

    /** {@code gathered}, just made from {@code shard} by {@code plan}: a candidate under selective recompute. */
    static void made(Tensor shard, Tensor gathered, Redistribution plan, DistContext ctx) {
        Storage s = gathered.storageIfAny();
        Storage from = shard.storageIfAny();
        if (Recompute.current() != Recompute.SELECTIVE || !GradMode.isEnabled() || !shard.requiresGrad() || s == null || from == null) {
            return;
        }
        Region region = new Region(shard, gathered, plan, ctx, OpScope.currentModule(), OpScope.currentOp());
        if (Recompute.atEndOfLayer(from, () -> layerEnded(s, region))) {
            REGIONS.get().put(s, region);
        }
    }

    /** One more consumer took {@code gathered} (each consumer asks the shared region once). */
    static void used(Tensor gathered) {
        Region region = region(gathered.storageIfAny());
        if (region != null) {
            region.uses++;
        }
    }

    /** A linear's forward read {@code x} and its backward will ask {@link #whole} for it. */
    public static void readBy(Tensor x) {
        Region region = region(x.storageIfAny());
        if (region != null && !region.givenBack) {
            region.readers++;
        }
    }

    /** {@code x} itself, or, if its storage was given back at its layer's end, the same values gathered again. */
    public static Tensor whole(Tensor x) {
        Region region = region(x.storageIfAny());
        if (region == null || !region.givenBack) {
            return x;
        }
        if (x.offset() != region.gathered.offset() || x.numel() != region.gathered.numel() || !x.isContiguous()) {
            // only a whole, contiguous view of the gathered tensor can be read from a new gather of it
            throw new IllegalStateException("a reader of the given-back gather " + region.module + "/" + region.op + " reads "
                    + java.util.Arrays.toString(x.shape()) + " at offset " + x.offset() + ", not the whole "
                    + java.util.Arrays.toString(region.gathered.shape()));
        }
        if (region.again == null) {
            region.again = Redistributor.execute(region.shard, region.plan.from(), region.plan.to(), CollectiveKind.ALL_GATHER, region.ctx);
            Redistributor.trace(region.ctx, region.module, region.op, CollectiveKind.ALL_GATHER, region.plan.sendBytesPerRank(), CommTrace.Phase.BACKWARD);
        }
        return region.again.view(x.shape());
    }

    /** A reader's backward is done with {@code x}: the last one gives the re-gathered copy back. */
    public static void readDone(Tensor x) {
        Storage s = x.storageIfAny();
        Region region = region(s);
        if (region != null && region.givenBack && ++region.readersDone == region.readers) {
            if (region.again != null) {
                region.again.storage().release();
            }
            REGIONS.get().remove(s);
        }
    }

    private static Region region(Storage s) {
        return s == null ? null : REGIONS.get().get(s);
    }

    /** The layer's forward is over: the whole is given back if every consumer will gather it again. */
    private static void layerEnded(Storage s, Region region) {
        if (region.uses == 0 || region.readers != region.uses || s.isReleased()) {
            REGIONS.get().remove(s);
            return;
        }
        region.givenBack = true;
        ColoDistribution.setTpCopy(region.shard, null); // a later consumer gathers anew, never reads the given-back whole
        s.release();
    }
}

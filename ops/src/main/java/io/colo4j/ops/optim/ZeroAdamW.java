package io.colo4j.ops.optim;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.colo.CommTrace;
import io.colo4j.tensor.colo.DataParallel;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.OpScope;
import io.colo4j.tensor.comm.Communicator;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Predicate;

/**
 * AdamW whose moments are sharded over the data-parallel group, as ZeRO (DeepSpeed; ColossalAI's sharded
 * optimizer). Each parameter's local (tp) shard is cut, flat, into dp chunks of {@code ceil(numel / dp)}
 * floats (the last one padded), and dp rank d keeps the moments of chunk d only: optimizer state per rank
 * is 2/dp of the parameters instead of 2.
 *
 * <ul>
 *   <li><b>Stage 1</b>: gradients are averaged over dp with one all-reduce each, exactly as plain data
 *       parallelism; each rank updates its chunk and the chunks are all-gathered back into every replica.
 *       Clipping and the update see the same bits as {@link AdamW} after {@link DataParallel}, so training
 *       is bit-identical to the unsharded run.</li>
 *   <li><b>Stage 2</b>: gradients are reduce-scattered instead, so each rank receives only its chunk's
 *       average and the full gradient is freed at once; the clipping norm sums the chunks over dp.
 *       Reduce-scatter + all-gather move what one all-reduce does: half of stage 1's gradient traffic. The
 *       norm is summed in another order than stage 1's, so its last bits (and a clipped step's) may differ.</li>
 * </ul>
 *
 * <p>Call order per step, on every rank: backward, {@link #reduceGradients()}, {@link #clip}, {@link #step()},
 * {@link #zeroGrad()}. Every method that communicates is a collective over the dp group.
 */
public final class ZeroAdamW extends AbstractAdamW {
    private final List<Slot> slots = new ArrayList<>();
    private final DistContext context;
    private final Communicator dp;
    private final int stage;
    private final Tensor normSum;

    /** One parameter: its chunk's moments (this rank's span of it) and, at stage 2, the chunk's gradient. */
    private static final class Slot {
        final AdamWMoments moments;
        final Tensor param;
        final long numel;
        final long chunk;
        Tensor gradChunk;

        Slot(String name, Tensor param, boolean decays, int dpSize, int dpRank) {
            this.param = param;
            this.numel = param.localNumel();
            this.chunk = chunkFloats(numel, dpSize);
            if (chunk > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("ZeroAdamW: parameter '" + name + "' has " + numel
                        + " local elements; a dp chunk of " + chunk + " floats is past the collectives' limit");
            }
            long from = Math.min(numel, dpRank * chunk);
            long length = Math.min(numel, from + chunk) - from;
            this.moments = new AdamWMoments(name, param, decays, from, length, Tensor.zeros((int) chunk), Tensor.zeros((int) chunk));
        }
    }

    /** Weight decay on every parameter except biases and normalisation weights, as {@link AdamW}. */
    public ZeroAdamW(Map<String, ? extends Tensor> namedParams, AdamW.Options options, DistContext context, int stage) {
        this(namedParams, options, AdamW::decaysByDefault, context, stage);
    }

    public ZeroAdamW(Map<String, ? extends Tensor> namedParams, AdamW.Options options, Predicate<String> decay,
                     DistContext context, int stage) {
        super(options);
        if (stage != 1 && stage != 2) {
            throw new IllegalArgumentException("ZeRO stage must be 1 (shard optimizer state) or 2 (also gradients), got " + stage);
        }
        this.context = context;
        this.dp = context.dp();
        this.stage = stage;
        try (MemoryScope persistent = MemoryScope.persistent()) {
            this.normSum = Tensor.zeros(1);
            for (Map.Entry<String, ? extends Tensor> e : namedParams.entrySet()) {
                Tensor p = e.getValue();
                if (!p.isContiguous()) {
                    throw new IllegalArgumentException("ZeroAdamW: parameter '" + e.getKey() + "' is not contiguous");
                }
                Slot s = new Slot(e.getKey(), p, decay.test(e.getKey()), dp.size(), dp.rank());
                slots.add(s);
                add(s.moments);
            }
        }
    }

    /** The floats of each dp rank's chunk of a parameter with {@code numel} local elements: ceil(numel / dp). */
    public static long chunkFloats(long numel, int dp) {
        return Math.ceilDiv(numel, dp);
    }

    public int stage() {
        return stage;
    }
    // ---- gradients ------------------------------------------------------------------------------------------

    /**
     * After backward: stage 1 averages every gradient over dp (all-reduce); stage 2 leaves this rank holding
     * only its chunk of the average (reduce-scatter) and frees the full gradient.
     */
    public void reduceGradients() {
        requireLayoutsUnchanged();
        if (stage == 1) {
            DataParallel.averageGradients(slots.stream().map(s -> s.param).toList(), context);
            return;
        }
        int n = dp.size();
        try (GradMode.Guard ignored = GradMode.disabled(); OpScope scope = OpScope.enter("zero_grad_reduce_scatter", "")) {
            for (Slot s : slots) {
                Tensor g = s.param.grad();
                if (g == null) {
                    continue;
                }
                Tensor chunk;
                try (MemoryScope persistent = MemoryScope.persistent()) {
                    chunk = Tensor.zeros((int) s.chunk);
                }
                try (MemoryScope temp = MemoryScope.open()) {
                    Tensor full = padded(g.isContiguous() ? g : g.copy(), s);
                    dp.reduceScatter(floats(full, 0, s.chunk * n), floats(chunk, 0, s.chunk));
                }
                chunk.scaleInPlace(1f / n);
                s.gradChunk = chunk;
                s.param.zeroGrad();
                trace(CollectiveKind.REDUCE_SCATTER, s.chunk * n, CommTrace.Phase.BACKWARD);
            }
        }
    }

    /**
     * Global-norm clipping as {@link GradClip}: the norm over {@code counted} (each tp-replicated parameter
     * counted on one tp rank), its local sum of squares passed through {@code tpReduce}; gradients scaled by
     * max_norm / (norm + 1e-6) when below 1. Returns the norm before clipping.
     */
    public double clip(Collection<? extends Tensor> counted, double maxNorm, DoubleUnaryOperator tpReduce) {
        if (stage == 1) {
            return GradClip.clip(counted, slots.stream().map(s -> s.param).toList(), maxNorm, tpReduce);
        }
        Set<Tensor> countedSet = Collections.newSetFromMap(new IdentityHashMap<>());
        countedSet.addAll(counted);
        double local = 0;
        for (Slot s : slots) {
            if (s.gradChunk != null && countedSet.contains(s.param)) {
                local += GradClip.sumOfSquares(s.gradChunk);
            }
        }
        normSum.set((float) local, 0);
        dp.allReduce(normSum);
        double norm = Math.sqrt(tpReduce.applyAsDouble(normSum.get(0)));
        if (maxNorm > 0 && Double.isFinite(norm)) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1.0) {
                try (GradMode.Guard ignored = GradMode.disabled()) {
                    for (Slot s : slots) {
                        if (s.gradChunk != null) {
                            GradClip.scale(s.gradChunk, (float) coef);
                        }
                    }
                }
            }
        }
        return norm;
    }

    // ---- the update -----------------------------------------------------------------------------------------

    /** Updates this rank's chunk of every parameter that has a gradient, then all-gathers the chunks over dp. */
    @Override
    public void step() {
        requireLayoutsUnchanged();
        try (GradMode.Guard ignored = GradMode.disabled(); OpScope scope = OpScope.enter("zero_param_all_gather", "")) {
            for (Slot s : slots) {
                Tensor grad = stage == 1 ? s.param.grad() : s.gradChunk;
                if (grad == null) {
                    continue;
                }
                try (MemoryScope temp = MemoryScope.open()) {
                    update(s.moments, grad.isContiguous() ? grad : grad.copy(), stage == 1 ? s.moments.from : 0);
                    Tensor mine = Tensor.zeros((int) s.chunk);
                    MemorySegment.copy(s.param.segment(), (s.param.offset() + s.moments.from) * Float.BYTES, mine.segment(),
                            mine.offset() * Float.BYTES, s.moments.length * Float.BYTES);
                    gatherChunks(mine, s, s.param);
                }
                trace(CollectiveKind.ALL_GATHER, s.chunk * dp.size(), CommTrace.Phase.OPTIMIZER);
            }
        }
    }

    /** Every rank's {@code chunk} of a parameter-sized tensor, all-gathered over dp into {@code whole} (its padding dropped). */
    private void gatherChunks(Tensor chunk, Slot s, Tensor whole) {
        int n = dp.size();
        if (s.chunk * n == s.numel) {
            dp.allGather(floats(chunk, 0, s.chunk), floats(whole, 0, s.numel));
            return;
        }
        Tensor all = Tensor.zeros((int) (s.chunk * n));
        dp.allGather(floats(chunk, 0, s.chunk), floats(all, 0, s.chunk * n));
        MemorySegment.copy(all.segment(), all.offset() * Float.BYTES, whole.segment(), whole.offset() * Float.BYTES,
                s.numel * Float.BYTES);
        all.freeStorage();
    }

    @Override
    public void zeroGrad() {
        for (Slot s : slots) {
            s.param.zeroGrad();
            if (s.gradChunk != null) {
                s.gradChunk.freeStorage();
                s.gradChunk = null;
            }
        }
    }

    // ---- state -------------------------------------------------------------------------------------------------

    @Override
    public Map<String, Tensor> stateTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (GradMode.Guard ignored = GradMode.disabled(); OpScope scope = OpScope.enter("zero_state_all_gather", "")) {
            for (Slot s : slots) {
                Tensor expAvg = Tensor.zeros(s.param.localShape());
                gatherChunks(s.moments.expAvg, s, expAvg);
                out.put(AdamWMoments.expAvgKey(s.moments.name), expAvg);
                Tensor expAvgSq = Tensor.zeros(s.param.localShape());
                gatherChunks(s.moments.expAvgSq, s, expAvgSq);
                out.put(AdamWMoments.expAvgSqKey(s.moments.name), expAvgSq);
            }
        }
        return out;
    }

    /** Bytes of gradient this rank holds now: full gradients (stage 1, or before {@link #reduceGradients}) plus chunks. */
    public long gradientBytes() {
        long floats = 0;
        for (Slot s : slots) {
            if (s.param.grad() != null) {
                floats += s.param.grad().numel();
            }
            if (s.gradChunk != null) {
                floats += s.gradChunk.numel();
            }
        }
        return floats * Float.BYTES;
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /** {@code g} itself when its chunks tile it exactly; else a zero-padded copy of dp whole chunks. */
    private Tensor padded(Tensor g, Slot s) {
        long total = s.chunk * dp.size();
        if (total == s.numel) {
            return g;
        }
        Tensor p = Tensor.zeros((int) total);
        MemorySegment.copy(g.segment(), g.offset() * Float.BYTES, p.segment(), p.offset() * Float.BYTES, s.numel * Float.BYTES);
        return p;
    }

    private static MemorySegment floats(Tensor t, long from, long count) {
        return t.segment().asSlice((t.offset() + from) * Float.BYTES, count * Float.BYTES);
    }

    private void trace(CollectiveKind kind, long fullFloats, CommTrace.Phase phase) {
        long full = fullFloats * Float.BYTES;
        context.traceCollective(kind, kind.volume(dp.size(), full, full / dp.size()).sendBytesPerRank(), phase);
    }
}

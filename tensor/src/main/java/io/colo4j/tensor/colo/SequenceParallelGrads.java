package io.colo4j.tensor.colo;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Autograd;
import io.colo4j.tensor.autograd.GradMode;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The gradients of replicated parameters read on a split region (under sequence parallelism: the norms' gains and
 * biases and the row layers' biases, which each rank applies to its own tokens only), summed over tp once per backward
 * as Megatron's {@code allreduce_layernorm_grads}, rather than all-reduced one by one inside the blocks.
 *
 * <p>Only parameters with Megatron's attribute ({@link ColoParameter#sequenceParallel()}, which rules with sequence
 * parallelism give every parameter they leave replicated) are kept so; without it a partial gradient is all-reduced in
 * backward as before. In backward each rank's share stays out of the parameter's gradient, held here; when the outermost backward ends
 * ({@link Autograd#atEndOfBackward}) the shares of all such parameters are flattened into one buffer, all-reduced over
 * tp once (traced as {@link #OP}, outside any module, in the backward phase) and added to the gradients. So no code can
 * read a partial gradient: {@code grad()} is the whole one as soon as {@code backward()} returns, before the dp sync,
 * ZeRO and clipping, and every caller of backward (trainer, bench, tests, a recomputed layer's inner backward, whose
 * shares join the outer one's bucket) gets it without a call of its own. A parameter also used elsewhere with its whole
 * gradient keeps that part as usual: only the shares are summed.
 */
public final class SequenceParallelGrads {
    /** The op the bucketed all-reduce is traced under (module: the model root). */
    public static final String OP = "sp_grad_sync";

    private SequenceParallelGrads() {}

    /**
     * The replicated parameter {@code p} for a consumer that yields only this rank's share of its gradient: identity
     * forward; backward keeps the share for the one all-reduce at the end of backward and passes nothing on to {@code p}.
     */
    public static Tensor keepPartial(ColoParameter p) {
        DistState state = ColoDistribution.state(p);
        if (state.context().tpSize() == 1) {
            return p;
        }
        if (GradMode.isEnabled() && p.requiresGrad()) {
            p.markGradSummedAfterBackward();
        }
        DistContext context = state.context();
        Tensor out = ColoDistribution.label(p.detach(), state);
        return Autograd.record("keep_partial_grad", out, g -> {
            Autograd.atEndOfBackward(List.of(SequenceParallelGrads.class, context), () -> new Bucket(context)).add(p, g);
            return new Tensor[] {null};
        }, p);
    }

    /**
     * The shares of one backward on one rank, per parameter in the order backward reached them (the same on every rank),
     * summed where a parameter is read on the split region twice; run at the end of backward: one all-reduce of all of
     * them, each sum then added to its parameter's gradient.
     */
    private static final class Bucket implements Runnable {
        private final DistContext context;
        private final List<ColoParameter> parameters = new ArrayList<>();
        private final List<Tensor> shares = new ArrayList<>();
        private final Map<ColoParameter, Integer> index = new IdentityHashMap<>();

        Bucket(DistContext context) {
            this.context = context;
        }

        /** Copied out of the step's scopes: a recomputed layer's backward frees its memory before backward ends. */
        void add(ColoParameter p, Tensor share) {
            try (MemoryScope kept = MemoryScope.persistent()) {
                Integer i = index.get(p);
                if (i == null) {
                    index.put(p, parameters.size());
                    parameters.add(p);
                    shares.add(share.copy());
                } else {
                    shares.get(i).addInPlace(share);
                }
            }
        }

        @Override
        public void run() {
            long total = 0;
            for (Tensor share : shares) {
                total += share.numel();
            }
            Tensor flat;
            try (MemoryScope kept = MemoryScope.persistent()) {
                flat = Tensor.zeros(Math.toIntExact(total));
            }
            try (GradMode.Guard ignored = GradMode.disabled(); OpScope scope = OpScope.enter(OP, "")) {
                int offset = 0;
                for (Tensor share : shares) {
                    int n = Math.toIntExact(share.numel());
                    flat.narrow(0, offset, n).copyFrom(share.contiguous().view(n));
                    offset += n;
                }
                context.tp().allReduce(flat);
                long bytes = total * Float.BYTES;
                context.traceCollective(CollectiveKind.ALL_REDUCE,
                        CollectiveKind.ALL_REDUCE.volume(context.tpSize(), bytes, bytes).sendBytesPerRank(), CommTrace.Phase.BACKWARD);
                offset = 0;
                for (int i = 0; i < parameters.size(); i++) {
                    ColoParameter p = parameters.get(i);
                    int n = Math.toIntExact(shares.get(i).numel());
                    Autograd.accumulateLeaf(p, flat.narrow(0, offset, n).view(p.localShape()));
                    offset += n;
                }
            } finally {
                shares.forEach(Tensor::freeStorage);
                flat.freeStorage();
            }
        }
    }
}

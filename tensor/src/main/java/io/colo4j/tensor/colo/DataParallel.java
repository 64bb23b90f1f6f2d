package io.colo4j.tensor.colo;

import io.colo4j.spec.placement.CollectiveKind;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.GradMode;
import io.colo4j.tensor.nn.Module;

/** Data parallelism across the dp group: every rank's gradients replaced by their mean over dp. */
public final class DataParallel {
    /** The op its collectives are traced under (module: the model root), so a trace tells them from tp's. */
    public static final String OP = "dp_grad_sync";

    private DataParallel() {}

    /** Call after backward on every rank: averages each parameter's gradient over the dp group. */
    public static void averageGradients(Module model, DistContext context) {
        averageGradients(model.parameters(), context);
    }

    /** As {@link #averageGradients(Module, DistContext)} for the given parameters, in their order on every rank. */
    public static void averageGradients(Iterable<? extends Tensor> parameters, DistContext context) {
        int dp = context.dp().size();
        if (dp == 1) {
            return;
        }
        try (GradMode.Guard ignored = GradMode.disabled(); OpScope scope = OpScope.enter(OP, "")) {
            for (Tensor p : parameters) {
                Tensor grad = p.grad();
                if (grad == null) {
                    continue;
                }
                context.dp().allReduce(grad);
                grad.scaleInPlace(1f / dp);
                long bytes = grad.numel() * Float.BYTES;
                context.traceCollective(CollectiveKind.ALL_REDUCE,
                        CollectiveKind.ALL_REDUCE.volume(dp, bytes, bytes).sendBytesPerRank(), CommTrace.Phase.BACKWARD);
            }
        }
    }
}

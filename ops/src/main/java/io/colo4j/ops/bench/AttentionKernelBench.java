package io.colo4j.ops.bench;

import io.colo4j.ops.kernel.AttentionKernels;
import io.colo4j.ops.kernel.Backends;
import io.colo4j.ops.kernel.KernelBackend;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.MemoryScope;
import io.colo4j.tensor.Tensor;
import java.io.PrintStream;

/**
 * Causal attention over [B, H, T, hd] as the fused kernel ({@link AttentionKernels}) and as the composed kernels it
 * replaces (q k^T, causal softmax, P v; backward: dO v^T, softmax backward, three products), timed in the same run,
 * with the step memory each keeps for backward or holds at once: the composed path's [B, H, T, T] probabilities (and
 * its scores and their gradients while it runs) against the fused kernel's [B, H, T, 2] row statistics.
 */
public final class AttentionKernelBench {
    private AttentionKernelBench() {}

    public record Result(double fusedForwardMs, double composedForwardMs, double fusedBackwardMs, double composedBackwardMs,
                         long composedSavedBytes, long fusedSavedBytes) {}

    public static Result run(int batch, int heads, int seq, int headDim, int iterations, PrintStream out) {
        KernelBackend k = Backends.current();
        if (!(k instanceof AttentionKernels fused)) {
            out.printf("attention: backend %s has no fused attention kernel%n", k.name());
            return null;
        }
        float scale = (float) (1.0 / Math.sqrt(headDim));
        try (MemoryScope scope = MemoryScope.open()) {
            int[] qs = {batch, heads, seq, headDim};
            int[] ss = {batch, heads, seq, seq};
            Tensor q = Tensor.init(Init.uniform(1, -1, 1), qs);
            Tensor kk = Tensor.init(Init.uniform(2, -1, 1), qs);
            Tensor v = Tensor.init(Init.uniform(3, -1, 1), qs);
            Tensor g = Tensor.init(Init.uniform(4, -1, 1), qs);
            Tensor o = Tensor.empty(qs);
            Tensor stats = Tensor.empty(batch, heads, seq, 2);
            Tensor dq = Tensor.empty(qs);
            Tensor dk = Tensor.empty(qs);
            Tensor dv = Tensor.empty(qs);
            Tensor scores = Tensor.empty(ss);
            Tensor probs = Tensor.empty(ss);
            Tensor gp = Tensor.empty(ss);
            Tensor gs = Tensor.empty(ss);
            var ff = KernelBench.time(iterations, () -> fused.attention(q, kk, v, scale, true, o, stats));
            var fb = KernelBench.time(iterations, () -> fused.attentionBackward(q, kk, v, stats, g, scale, true, dq, dk, dv));
            var cf = KernelBench.time(iterations, () -> {
                k.matmul(q, kk.mT(), scores, scale, 0f);
                k.softmax(scores, 1f, true, probs);
                k.matmul(probs, v, o, 1f, 0f);
            });
            var cb = KernelBench.time(iterations, () -> {
                k.matmul(g, v.mT(), gp, 1f, 0f);
                k.softmaxBackward(probs, gp, 1f, gs);
                k.matmul(gs, kk, dq, scale, 0f);
                k.matmul(gs.mT(), q, dk, scale, 0f);
                k.matmul(probs.mT(), g, dv, 1f, 0f);
            });
            long probBytes = probs.numel() * Float.BYTES;
            long statBytes = stats.numel() * Float.BYTES;
            out.printf("attention [%d, %d, %d, %d] causal     fused ms  composed ms  fused/composed%n", batch, heads, seq, headDim);
            out.printf("  forward                      %9.3f  %11.3f  %14.2f%n", ff.millis(), cf.millis(), ff.millis() / cf.millis());
            out.printf("  backward                     %9.3f  %11.3f  %14.2f%n", fb.millis(), cb.millis(), fb.millis() / cb.millis());
            out.printf("  kept for backward: %.1f MiB of probabilities (composed) vs %.3f MiB of row statistics (fused);"
                    + " the composed path also holds %.1f MiB of scores or score gradients at once%n",
                    probBytes / 1048576.0, statBytes / 1048576.0, 2.0 * probBytes / 1048576.0);
            return new Result(ff.millis(), cf.millis(), fb.millis(), cb.millis(), probBytes, statBytes);
        }
    }
}

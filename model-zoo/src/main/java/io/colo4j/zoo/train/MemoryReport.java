package io.colo4j.zoo.train;

import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.nn.Parameter;
import java.util.Collection;
import java.util.Locale;

/**
 * One rank's long-lived training memory: parameters, gradients (held whole from backward until the step,
 * also under ZeRO-2, which frees them only after the reduce-scatter) and optimizer state, beside the
 * formula a user sizes a cluster with: {@code (sharded / tp + replicated) x (1 + 1 + 2/z)} floats, where
 * sharded and replicated count the model's elements (unpadded) and z = dp with ZeRO, 1 without.
 */
public record MemoryReport(long parameterBytes, long gradientBytes, long optimizerBytes, long shardedElements,
                           long replicatedElements, int tp, int dp, int zeroStage) {

    /** Measures the parameters this rank holds; gradients are counted as one per parameter element. */
    public static MemoryReport of(Collection<Parameter> parameters, long optimizerBytes, int tp, int dp, int zeroStage) {
        long local = 0;
        long sharded = 0;
        long replicated = 0;
        for (Parameter p : parameters) {
            local += p.numel();
            if (p instanceof ColoParameter c && !c.isReplicated()) {
                long n = 1;
                for (int d : io.colo4j.tensor.colo.ColoTensor.dist(c).validShape()) {
                    n *= d;
                }
                sharded += n;
            } else {
                replicated += p.numel();
            }
        }
        return new MemoryReport(local * Float.BYTES, local * Float.BYTES, optimizerBytes, sharded, replicated, tp, dp, zeroStage);
    }

    public long totalBytes() {
        return parameterBytes + gradientBytes + optimizerBytes;
    }

    /** The formula's bytes (see the class comment). */
    public double formulaBytes() {
        double stateShards = zeroStage > 0 ? dp : 1;
        return ((double) shardedElements / tp + replicatedElements) * (2 + 2 / stateShards) * Float.BYTES;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "memory per rank: parameters %.1f MiB + gradients %.1f MiB + AdamW state %.1f MiB%s = %.1f MiB "
                        + "(formula (sharded/tp + replicated) x (2 + 2/%s) = %.1f MiB)",
                mib(parameterBytes), mib(gradientBytes), mib(optimizerBytes),
                zeroStage > 0 ? " (ZeRO-" + zeroStage + " over dp=" + dp + ")" : "", mib(totalBytes()),
                zeroStage > 0 ? "dp" : "1", mib((long) formulaBytes()));
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }
}

package io.colo4j.zoo.sizing;

import io.colo4j.rules.Assignment;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.tensor.Shapes;
import java.util.function.Predicate;

/**
 * What one rank holds for training, in bytes (float32), from the sharding plan alone: its shard of each
 * parameter (padding included) or the whole replicated parameter; a gradient of the same size for every
 * parameter that gets one; and AdamW's two moments (exp_avg, exp_avg_sq), which AdamW allocates for
 * every parameter. Under ZeRO stage 1 or 2 each rank keeps only its 1/dp chunk of every parameter's
 * moments, the local numel split into dp chunks of ceil(numel / dp). Gradients are counted whole at
 * every stage: backward produces each rank's local gradients whole before any reduce-scatter. Activations
 * are not included. Every rank holds the same (shards are padded to equal sizes).
 *
 * @param shardedParameterBytes    this rank's shards of the parameters the rules shard
 * @param replicatedParameterBytes the parameters every rank holds whole
 * @param gradientBytes            gradients of the parameters that get one
 * @param optimizerBytes           AdamW's exp_avg + exp_avg_sq
 * @param shardedSerialBytes       the serial (unsharded, unpadded) size of the sharded parameters
 */
public record MemoryPerRank(int tp, int dp, int zero, long shardedParameterBytes, long replicatedParameterBytes,
                            long gradientBytes, long optimizerBytes, long shardedSerialBytes) {

    /** From a plan that {@linkplain ShardingPlan#ok() has no errors}; {@code getsGradient} by parameter name. */
    public static MemoryPerRank of(ShardingPlan plan, int dp, int zero, Predicate<String> getsGradient) {
        plan.requireOk();
        checkZero(zero);
        long sharded = 0;
        long replicated = 0;
        long gradients = 0;
        long optimizer = 0;
        long shardedSerial = 0;
        for (Assignment a : plan.assignments()) {
            long local = Shapes.numel(a.localShape());
            if (a.sharded()) {
                sharded += local;
                shardedSerial += Shapes.numel(a.shape());
            } else {
                replicated += local;
            }
            if (getsGradient.test(a.parameter())) {
                gradients += local;
            }
            optimizer += 2 * optimizerChunk(local, dp, zero);
        }
        return new MemoryPerRank(plan.tp(), dp, zero, sharded * Float.BYTES, replicated * Float.BYTES, gradients * Float.BYTES,
                optimizer * Float.BYTES, shardedSerial * Float.BYTES);
    }

    /** The floats of one AdamW moment of a parameter whose local shard has {@code localNumel}. */
    public static long optimizerChunk(long localNumel, int dp, int zero) {
        return zero >= 1 ? Math.ceilDiv(localNumel, dp) : localNumel;
    }

    static void checkZero(int zero) {
        if (zero < 0 || zero > 2) {
            throw new IllegalArgumentException("ZeRO stage must be 0, 1 or 2, got " + zero);
        }
    }

    public long parameterBytes() {
        return shardedParameterBytes + replicatedParameterBytes;
    }

    public long totalBytes() {
        return parameterBytes() + gradientBytes + optimizerBytes;
    }

    /** What the moments cost per parameter byte: 2, or 2/dp under ZeRO. */
    public double optimizerFactor() {
        return zero >= 1 ? 2.0 / dp : 2.0;
    }

    /**
     * The back-of-envelope total, {@code (sharded / tp + replicated) x (1 + 1 + optimizerFactor)}: parameters,
     * gradients and moments, without padding (vocabulary rows padded to a multiple of tp, ZeRO chunks to
     * ceil(numel / dp)) and counting a gradient for every parameter. {@link #totalBytes()} is exact.
     */
    public double formulaBytes() {
        return ((double) shardedSerialBytes / tp + replicatedParameterBytes) * (2 + optimizerFactor());
    }
}

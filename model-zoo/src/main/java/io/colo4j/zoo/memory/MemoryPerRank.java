package io.colo4j.zoo.memory;

import io.colo4j.ops.optim.ZeroAdamW;
import io.colo4j.rules.Assignment;
import io.colo4j.rules.ShardingPlan;
import io.colo4j.tensor.Shapes;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.nn.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * What one rank holds for training, in bytes (float32), the one memory model of a run: planned from the sharding
 * plan alone ({@code plan}, {@link #of(ShardingPlan, int, int, Predicate)}) or taken from the parameters a rank
 * holds (the run's report, {@link #held}), by the same rules: its shard of each
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

    /**
     * One parameter as a rank holds it: its local (shard or whole) element count and, when sharded, the serial
     * (unsharded, unpadded) one.
     */
    public record Local(long numel, long serialNumel, boolean sharded, boolean getsGradient) {}

    /** From a plan that {@linkplain ShardingPlan#ok() has no errors}; {@code getsGradient} by parameter name. */
    public static MemoryPerRank of(ShardingPlan plan, int dp, int zero, Predicate<String> getsGradient) {
        plan.requireOk();
        List<Local> locals = new ArrayList<>();
        for (Assignment a : plan.assignments()) {
            locals.add(new Local(Shapes.numel(a.localShape()), Shapes.numel(a.shape()), a.sharded(), getsGradient.test(a.parameter())));
        }
        return of(locals, plan.tp(), dp, zero);
    }

    /**
     * What a rank of a tp x dp run holds for {@code parameters} (its shards, materialised), counting a gradient for
     * every parameter, as backward leaves one for each parameter it reaches.
     */
    public static MemoryPerRank held(Collection<? extends Parameter> parameters, int tp, int dp, int zero) {
        List<Local> locals = new ArrayList<>();
        for (Parameter p : parameters) {
            boolean sharded = p instanceof ColoParameter c && !c.isReplicated();
            locals.add(new Local(p.localNumel(), p.numel(), sharded, true));
        }
        return of(locals, tp, dp, zero);
    }

    /** Sums {@code locals} by the class comment's rules. */
    public static MemoryPerRank of(List<Local> locals, int tp, int dp, int zero) {
        checkZero(zero);
        long sharded = 0;
        long replicated = 0;
        long gradients = 0;
        long optimizer = 0;
        long shardedSerial = 0;
        for (Local p : locals) {
            if (p.sharded()) {
                sharded += p.numel();
                shardedSerial += p.serialNumel();
            } else {
                replicated += p.numel();
            }
            if (p.getsGradient()) {
                gradients += p.numel();
            }
            optimizer += 2 * optimizerChunk(p.numel(), dp, zero);
        }
        return new MemoryPerRank(tp, dp, zero, sharded * Float.BYTES, replicated * Float.BYTES, gradients * Float.BYTES,
                optimizer * Float.BYTES, shardedSerial * Float.BYTES);
    }

    /** The floats of one AdamW moment of a parameter whose local shard has {@code localNumel}. */
    public static long optimizerChunk(long localNumel, int dp, int zero) {
        return zero >= 1 ? ZeroAdamW.chunkFloats(localNumel, dp) : localNumel;
    }

    public static void checkZero(int zero) {
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

    /** The run's one-line report: what this rank holds beside the formula. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "memory per rank: parameters %.1f MiB + gradients %.1f MiB + AdamW state %.1f MiB%s = %.1f MiB "
                        + "(formula (sharded/tp + replicated) x (2 + 2/%s) = %.1f MiB)",
                mib(parameterBytes()), mib(gradientBytes), mib(optimizerBytes),
                zero > 0 ? " (ZeRO-" + zero + " over dp=" + dp + ")" : "", mib(totalBytes()),
                zero > 0 ? "dp" : "1", mib((long) formulaBytes()));
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }
}

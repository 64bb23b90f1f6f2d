package io.colo4j.zoo.sizing;

import io.colo4j.zoo.memory.MemoryPerRank;
import io.colo4j.spec.placement.CollectiveKind;
import java.util.ArrayList;
import java.util.List;

/**
 * The data-parallel collectives of one step, worked out from each rank's local parameter sizes (no trace
 * needed: they depend on nothing else), one or two per parameter, at the ring volumes of
 * {@link CollectiveKind#volume}:
 * <ul>
 *   <li>ZeRO 0 ({@link io.colo4j.tensor.colo.DataParallel}): an all-reduce of every gradient;</li>
 *   <li>ZeRO 1: the same all-reduce, then, after each rank updated its 1/dp chunk, an all-gather of the
 *       parameter's chunks (each ceil(numel / dp), so the gathered tensor is padded to dp chunks);</li>
 *   <li>ZeRO 2: a reduce-scatter of every gradient into those chunks, then the same all-gather.</li>
 * </ul>
 * Nothing when dp = 1.
 */
public final class DpGradientSync {
    /** When in the step a dp collective runs: the gradient sync at the end of backward, the all-gather after the update. */
    public enum When { BACKWARD, OPTIMIZER }

    /** One dp collective of one parameter: the bytes this rank sends. */
    public record Collective(String parameter, CollectiveKind kind, When when, long bytes) {}

    /** A parameter that gets a gradient, with its local (per tp rank) element count. */
    public record Local(String parameter, long numel) {}

    private DpGradientSync() {}

    public static List<Collective> of(List<Local> parameters, int dp, int zero) {
        MemoryPerRank.checkZero(zero);
        List<Collective> out = new ArrayList<>();
        if (dp == 1) {
            return out;
        }
        for (Local p : parameters) {
            long bytes = p.numel() * Float.BYTES;
            long chunkBytes = MemoryPerRank.optimizerChunk(p.numel(), dp, zero) * Float.BYTES;
            long paddedBytes = chunkBytes * dp;
            if (zero == 2) {
                out.add(new Collective(p.parameter(), CollectiveKind.REDUCE_SCATTER, When.BACKWARD,
                        CollectiveKind.REDUCE_SCATTER.volume(dp, paddedBytes, paddedBytes).sendBytesPerRank()));
            } else {
                out.add(new Collective(p.parameter(), CollectiveKind.ALL_REDUCE, When.BACKWARD,
                        CollectiveKind.ALL_REDUCE.volume(dp, bytes, bytes).sendBytesPerRank()));
            }
            if (zero >= 1) {
                out.add(new Collective(p.parameter(), CollectiveKind.ALL_GATHER, When.OPTIMIZER,
                        CollectiveKind.ALL_GATHER.volume(dp, paddedBytes, chunkBytes).sendBytesPerRank()));
            }
        }
        return out;
    }
}

package io.colo4j.zoo.sizing;

import io.colo4j.tensor.autograd.Recompute;
import java.util.ArrayList;
import java.util.List;

/**
 * What activation recompute and sequence parallelism make of a config's traced activation figures
 * ({@link ActivationSizing}), per rank, at a window of {@code batch} x {@code seq}. Modelled, not traced, and
 * kept in this one place so that a traced figure can replace any rule here:
 * <ul>
 *   <li>sequence parallelism splits, over tp, the part of each layer that every tp rank holds whole (LayerNorm,
 *       dropout and residual regions: {@link ActivationSizing#replicatedPerLayerPerToken()}), but for the input each
 *       column-parallel sub-block gathers and keeps whole for its backward ({@link #GATHERED_INPUTS_PER_LAYER}; a
 *       norm's output, which without it every rank held whole anyway), but under selective recompute, which gathers
 *       it again in backward;</li>
 *   <li>selective recompute keeps every layer's activations but the attention scores and softmax (the b x s^2
 *       term), which only the layer being back-propagated holds;</li>
 *   <li>full recompute keeps each layer's input (one hidden vector per token, split over tp under sequence
 *       parallelism) and, during backward, one layer's activations; each layer's backward temporaries of a fixed
 *       size (its weights' gradients before they are accumulated) stay counted.</li>
 * </ul>
 * Outside the layers (embeddings, head, loss) nothing changes.
 */
public final class ActivationLayouts {
    /**
     * Hidden vectors per token that a layer keeps whole under sequence parallelism: the all-gathered input of its
     * attention's and its MLP's column layers (the sequence shard is not what they save; Megatron's re-gather in
     * backward is done under selective recompute only, where none is kept). Measured at GPT-2 small, seq 1024: SP holds 36 MiB less than none at tp 2, 93 MiB at tp 4,
     * as r / tp + 2 per layer gives (r: the hidden vectors per token a layer holds whole without it, 6 in GPT-2).
     */
    static final int GATHERED_INPUTS_PER_LAYER = 2;

    private ActivationLayouts() {}

    /** One way to hold a step's activations. */
    public record Layout(Recompute recompute, boolean sequenceParallel) {}

    /** The layouts worth listing at tp: every recompute, each with and (at tp > 1) without sequence parallelism. */
    public static List<Layout> layouts(int tp) {
        List<Layout> out = new ArrayList<>();
        for (Recompute r : Recompute.values()) {
            out.add(new Layout(r, false));
            if (tp > 1) {
                out.add(new Layout(r, true));
            }
        }
        return out;
    }

    /** Activation bytes per rank of the step. */
    public static long bytesPerRank(ActivationSizing a, Recompute recompute, boolean sequenceParallel, long batch, long seq) {
        ActivationFit layer = sequenceParallel ? sequenceParallel(a, recompute) : a.perLayer();
        int n = a.layers();
        ActivationFit layers = switch (recompute) {
            case NONE -> layer.times(n);
            case SELECTIVE -> layer.times(n).minus(layer.scoresOnly().times(n - 1));
            case FULL -> {
                double input = (double) a.blockInputBytesPerToken() / (sequenceParallel ? a.tp() : 1);
                ActivationFit kept = new ActivationFit(layer.constant(), input, 0, 0);
                ActivationFit oneLayer = new ActivationFit(0, layer.perToken(), layer.perTokenSeq(), layer.perSeqSquared());
                yield kept.times(n).plus(oneLayer);
            }
        };
        return Math.max(0, Math.round(a.outsideLayers().plus(layers).at(batch, seq)));
    }

    /**
     * One layer with its replicated activations split over tp, but for the gathered column inputs, which selective
     * recompute gives back at the layer's end and gathers again in backward ({@code colo.RegatheredInputs}).
     */
    private static ActivationFit sequenceParallel(ActivationSizing a, Recompute recompute) {
        double gathered = recompute == Recompute.SELECTIVE ? 0 : (double) GATHERED_INPUTS_PER_LAYER * a.blockInputBytesPerToken();
        double replicated = a.replicatedPerLayerPerToken();
        double split = Math.max(0, replicated * (1 - 1.0 / a.tp()) - Math.min(gathered, replicated));
        ActivationFit l = a.perLayer();
        return new ActivationFit(l.constant(), l.perToken() - split, l.perTokenSeq(), l.perSeqSquared());
    }
}

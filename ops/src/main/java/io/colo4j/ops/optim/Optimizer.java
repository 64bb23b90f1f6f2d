package io.colo4j.ops.optim;

import io.colo4j.tensor.Tensor;
import java.util.Map;

/**
 * What a training loop needs from an optimizer over named parameters: {@link AdamW} keeps every moment on
 * every rank; {@link ZeroAdamW} shards them over the data-parallel group. Checkpoints see the same state
 * either way: {@link #stateTensors()} returns each parameter's whole (tp-local) moments.
 */
public interface Optimizer {
    double lr();

    void setLr(double lr);

    /** One update of every parameter that has a gradient. */
    void step();

    /** Drops every gradient. */
    void zeroGrad();

    /**
     * {@code <name>.exp_avg} and {@code <name>.exp_avg_sq} for every parameter, shaped like it. For a sharded
     * optimizer this gathers them (a collective every rank of its group must join) into tensors of the caller's
     * {@link io.colo4j.tensor.MemoryScope}.
     */
    Map<String, Tensor> stateTensors();

    /** Per-parameter update counts (torch's {@code state['step']}). */
    Map<String, Long> stepCounts();

    /**
     * Restores what {@link #stateTensors()} and {@link #stepCounts()} returned (whole per-parameter tensors, also
     * for a sharded optimizer, which keeps its own chunk). Nothing changes unless every entry is valid.
     */
    void loadState(Map<String, ? extends Tensor> state, Map<String, Long> stepCounts);

    /** Bytes of optimizer state this rank holds. */
    long stateBytes();
}

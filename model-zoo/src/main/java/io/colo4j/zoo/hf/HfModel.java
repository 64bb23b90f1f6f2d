package io.colo4j.zoo.hf;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;

/**
 * What the zoo's shared code needs from a family's top-level model (besides being a
 * {@link io.colo4j.tensor.nn.Module}): its config, the step that selects dropout masks, and its loss.
 */
public interface HfModel<C extends HfConfig> {
    C config();

    /** Selects this step's dropout masks. */
    void setStep(long step);

    /** The model's own loss of {@code inputs} [B, T] against {@code labels} (-100 = ignore). */
    Tensor loss(IntTensor inputs, IntTensor labels);
}

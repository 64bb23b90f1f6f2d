package io.colo4j.zoo.nn;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;

/** HF's padding mask as the bias an encoder's attention adds to its scores. */
public final class AttentionMask {
    private AttentionMask() {
    }

    /**
     * HF's extended attention mask: {@code mask} [B, T] (non-zero where attended) -> [B, 1, 1, T], 0 where
     * attended and the most negative float where padded.
     */
    public static Tensor bias(IntTensor mask) {
        int[] s = mask.shape();
        float[] v = new float[mask.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = mask.get(i) != 0 ? 0f : -Float.MAX_VALUE;
        }
        return Tensor.of(v, s[0], 1, 1, s[1]);
    }
}

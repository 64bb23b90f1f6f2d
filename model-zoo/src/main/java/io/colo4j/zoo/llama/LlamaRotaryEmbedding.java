package io.colo4j.zoo.llama;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;

/**
 * Rotary position embeddings as HF's LlamaRotaryEmbedding and apply_rotary_pos_emb: inv_freq_i =
 * 1 / theta^(2i / head_dim), angles = position * inv_freq repeated over both halves of the head
 * (cat(freqs, freqs)), and x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x2, x1). The
 * tables are computed in float32 as torch does, so positions agree with a float32 reference.
 */
public final class LlamaRotaryEmbedding {
    private final int headDim;
    private final float[] invFreq;

    public LlamaRotaryEmbedding(int headDim, double theta) {
        this.headDim = headDim;
        this.invFreq = new float[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            invFreq[i] = 1f / (float) Math.pow(theta, exponent);
        }
    }

    /** cos and sin [T, head_dim] for positions 0 .. T-1. */
    public Tensor[] cosSin(int t) {
        return cosSin(0, t);
    }

    /** cos and sin [T, head_dim] for positions {@code start} .. start+T-1 (the tokens after a cache's). */
    public Tensor[] cosSin(int start, int t) {
        float[] cos = new float[t * headDim];
        float[] sin = new float[t * headDim];
        int half = headDim / 2;
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) (start + p) * invFreq[i];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[p * headDim + i] = c;
                cos[p * headDim + half + i] = c;
                sin[p * headDim + i] = s;
                sin[p * headDim + half + i] = s;
            }
        }
        return new Tensor[] {Tensor.of(cos, t, headDim), Tensor.of(sin, t, headDim)};
    }

    /** x [B, H, T, head_dim] rotated by the tables of {@link #cosSin}. */
    public static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        int hd = x.globalShape()[3];
        Tensor x1 = x.narrow(3, 0, hd / 2);
        Tensor x2 = x.narrow(3, hd / 2, hd / 2);
        Tensor rotated = Tensor.cat(3, F.scale(x2, -1f), x1);
        return F.add(F.mul(x, cos), F.mul(rotated, sin));
    }
}

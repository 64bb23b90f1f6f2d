package io.colo4j.zoo.t5;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.zoo.nn.HeadProjections;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.Linear;
import io.colo4j.ops.nn.Params;

/**
 * HF T5Attention as self-attention: q, k, v, o (torch Linear, no bias), no 1/sqrt(d_kv) scaling, and in
 * the first block of each stack the {@code relative_attention_bias} table [buckets, heads] from which
 * {@link #positionBias} builds the [1, heads, Tq, Tk] bias every block of the stack adds to its scores
 * (bidirectional buckets in the encoder, causal ones in the decoder).
 */
public final class T5Attention extends Layer<T5Config> {
    private final boolean bidirectional;
    private final HeadProjections proj;
    private final Embedding relativeAttentionBias;

    public T5Attention(T5Config config, String path, boolean bidirectional, boolean hasRelativeAttentionBias, long seed) {
        super(config, path);
        this.bidirectional = bidirectional;
        int d = config.dModel();
        int inner = config.innerDim();
        this.proj = new HeadProjections(registerLinear("q", d, inner, false, config.queryInitStd(), seed),
                registerLinear("k", d, inner, false, config.keyValueInitStd(), seed),
                registerLinear("v", d, inner, false, config.keyValueInitStd(), seed),
                registerLinear("o", inner, d, false, config.outputInitStd(), seed), config.dKv());
        this.relativeAttentionBias = hasRelativeAttentionBias
                ? registerModule("relative_attention_bias", new Embedding(config.relativeAttentionNumBuckets(), config.numHeads(),
                        Params.normal(seed, path + ".relative_attention_bias.weight", config.keyValueInitStd())))
                : null;
    }

    /**
     * x [B, T, d_model] -> [B, T, d_model].
     *
     * @param bias   the stack's position bias (+ padding mask) broadcasting to [B, heads, T, T], or null
     * @param causal whether position i attends only to j <= i (the decoder)
     */
    public Tensor forward(Tensor x, Tensor bias, boolean causal, long dropoutSeed) {
        int b = x.globalShape()[0];
        int t = x.globalShape()[1];
        Tensor qh = heads(proj.q().forward(x), b, t, config);
        Tensor kh = heads(proj.k().forward(x), b, t, config);
        Tensor vh = heads(proj.v().forward(x), b, t, config);
        Tensor y = attend(qh, kh, vh, bias, causal, config, isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        return proj.o().forward(merge(y, b, t, config));
    }

    /**
     * The relative position bias [1, heads, queryLength, keyLength] from this layer's table (HF
     * compute_bias): bucket(key position - query position), looked up, heads moved to dim 1.
     */
    public Tensor positionBias(int queryLength, int keyLength) {
        if (relativeAttentionBias == null) {
            throw new IllegalStateException(path + " has no relative_attention_bias");
        }
        int[] buckets = new int[queryLength * keyLength];
        for (int i = 0; i < queryLength; i++) {
            for (int j = 0; j < keyLength; j++) {
                buckets[i * keyLength + j] = relativePositionBucket(j - i, bidirectional, config.relativeAttentionNumBuckets(),
                        config.relativeAttentionMaxDistance());
            }
        }
        Tensor values = relativeAttentionBias.forward(IntTensor.of(buckets, queryLength, keyLength)); // [Tq, Tk, H]
        return values.permute(2, 0, 1).unsqueeze(0);
    }

    /**
     * HF's {@code _relative_position_bucket}: exact buckets for short distances, logarithmic ones up to
     * {@code maxDistance}, half the buckets for each direction when bidirectional; computed in float32
     * as torch does.
     */
    public static int relativePositionBucket(int relativePosition, boolean bidirectional, int numBuckets, int maxDistance) {
        int buckets = numBuckets;
        int out = 0;
        int rp = relativePosition;
        if (bidirectional) {
            buckets /= 2;
            if (rp > 0) {
                out += buckets;
            }
            rp = Math.abs(rp);
        } else {
            rp = -Math.min(rp, 0);
        }
        int maxExact = buckets / 2;
        if (rp < maxExact) {
            return out + rp;
        }
        float ratio = (float) rp / (float) maxExact;
        float log = (float) Math.log(ratio);
        float scaled = log / (float) Math.log((double) maxDistance / maxExact) * (float) (buckets - maxExact);
        int large = maxExact + (int) scaled;
        return out + Math.min(large, buckets - 1);
    }

    /** [B, T, heads * d_kv] -> [B, heads, T, d_kv]. */
    static Tensor heads(Tensor x, int b, int t, T5Config config) {
        return x.reshape(b, t, config.numHeads(), config.dKv()).transpose(1, 2);
    }

    /** [B, heads, T, d_kv] -> [B, T, heads * d_kv]. */
    static Tensor merge(Tensor y, int b, int t, T5Config config) {
        return y.transpose(1, 2).reshape(b, t, config.innerDim());
    }

    /** softmax(q k^T + bias [+ causal mask]) v, unscaled as in T5; HF drops the probabilities when training. */
    static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor bias, boolean causal, T5Config config, boolean training, long seed) {
        return Recompute.attentionCore(in -> attendCore(in[0], in[1], in[2], in[3], causal, config, training, seed), q, k, v, bias);
    }

    private static Tensor attendCore(Tensor q, Tensor k, Tensor v, Tensor bias, boolean causal, T5Config config, boolean training,
                                     long seed) {
        float p = config.dropoutRate();
        if (!(training && p > 0f)) {
            return F.attention(q, k, v, bias, causal, 1f);
        }
        Tensor scores = F.matmul(q, k.transpose(-2, -1));
        if (bias != null) {
            scores = F.add(scores, bias);
        }
        if (causal) {
            int tq = q.globalShape()[2];
            int tk = k.globalShape()[2];
            Tensor mask = Tensor.zeros(tq, tk);
            for (int i = 0; i < tq; i++) {
                for (int j = i + 1; j < tk; j++) {
                    mask.set(Float.NEGATIVE_INFINITY, i, j);
                }
            }
            scores = F.add(scores, mask);
        }
        return F.matmul(F.dropout(F.softmax(scores, -1), p, true, seed), v);
    }
}

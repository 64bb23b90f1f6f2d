package io.colo4j.zoo.t5;

import io.colo4j.ops.F;
import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.tensor.nn.ModuleList;
import io.colo4j.zoo.nn.AttentionMask;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.ops.nn.Embedding;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.RmsNorm;
import io.colo4j.zoo.nn.TokenIds;
import java.util.Arrays;

/**
 * HF T5Stack, the {@code encoder} or the {@code decoder}: {@code block.N} and {@code final_layer_norm}.
 * The token table is the model's {@code shared} (HF's {@code embed_tokens} is the same module; it is
 * not registered again here). Block 0's self-attention holds the relative position table; its bias is
 * computed once and added in every block.
 */
public final class T5Stack extends Layer<T5Config> {
    private final boolean decoder;
    private final ModuleList<T5Block> block;
    private final RmsNorm finalLayerNorm;

    public T5Stack(T5Config config, String path, boolean decoder, long seed) {
        super(config, path);
        this.decoder = decoder;
        this.block = registerModule("block", new ModuleList<>());
        int layers = decoder ? config.numDecoderLayers() : config.numLayers();
        for (int i = 0; i < layers; i++) {
            block.add(new T5Block(config, path + ".block." + i, decoder, i == 0, seed));
        }
        this.finalLayerNorm = registerModule("final_layer_norm", new RmsNorm(config.dModel(), config.layerNormEpsilon()));
    }

    /**
     * ids [B, T] -> hidden states [B, T, d_model] after final_layer_norm.
     *
     * @param mask        [B, T] 1 = attend, 0 = padding, for this stack's own tokens; null for none
     * @param encoded     the encoder output (decoder only)
     * @param encoderMask the encoder's padding mask [B, Tk] (decoder only), or null
     */
    public Tensor forward(Embedding shared, IntTensor ids, IntTensor mask, Tensor encoded, IntTensor encoderMask, long dropoutSeed) {
        int t = TokenIds.seqLength(ids, "t5");
        if (decoder != (encoded != null)) {
            throw new IllegalArgumentException("t5: the decoder needs the encoder output, the encoder takes none");
        }
        Tensor x = F.dropout(shared.forward(ids), config.dropoutRate(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        Tensor positionBias = null;
        if (block.size() > 0) {
            positionBias = block.get(0).selfAttention().attention().positionBias(t, t);
            if (mask != null) {
                positionBias = F.add(positionBias, maskBias(mask, t));
            }
        }
        Tensor crossBias = encoderMask == null ? null : maskBias(encoderMask, encoded.globalShape()[1]);
        for (T5Block b : block) {
            x = Recompute.layer(path + ".block", in -> b.forward(in[0], in[1], in[2], in[3], dropoutSeed), x, positionBias, encoded, crossBias);
        }
        x = finalLayerNorm.forward(x);
        return F.dropout(x, config.dropoutRate(), isTraining(), DropoutSeeds.site(dropoutSeed, path + ".final_dropout"));
    }

    /** The padding mask [B, T] of a sequence of T tokens as HF's extended attention mask [B, 1, 1, T]. */
    static Tensor maskBias(IntTensor mask, int t) {
        int[] s = mask.shape();
        if (s.length != 2 || s[1] != t) {
            throw new IllegalArgumentException("t5: an attention mask must be [batch, " + t + "], got " + Arrays.toString(s));
        }
        return AttentionMask.bias(mask);
    }
}

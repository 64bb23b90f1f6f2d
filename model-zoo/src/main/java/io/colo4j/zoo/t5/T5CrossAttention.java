package io.colo4j.zoo.t5;

import io.colo4j.tensor.Tensor;
import io.colo4j.ops.nn.DropoutSeeds;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.Linear;
import java.util.List;

/**
 * The decoder's cross-attention (HF T5's {@code EncDecAttention}) with FlagAI's fused key/value
 * projection: {@code q} projects the decoder states, one {@code key_value} Linear [2 * inner, d_model]
 * projects the encoder output to k | v (rows 0..inner-1 are HF's {@code k.weight}, the rest its
 * {@code v.weight}; {@link T5Checkpoint} converts), and {@code o} projects back. Unscaled scores; the
 * bias is the encoder's padding mask (T5 has no position bias across the two sequences).
 */
public final class T5CrossAttention extends Layer<T5Config> {
    private final Linear q;
    private final Linear keyValue;
    private final Linear o;

    public T5CrossAttention(T5Config config, String path, long seed) {
        super(config, path);
        this.q = registerLinear("q", config.dModel(), config.innerDim(), false, config.queryInitStd(), seed);
        this.keyValue = registerLinear("key_value", config.dModel(), 2 * config.innerDim(), false, config.keyValueInitStd(), seed);
        this.o = registerLinear("o", config.innerDim(), config.dModel(), false, config.outputInitStd(), seed);
        int hd = config.dKv();
        q.weight().splitUnit(0, hd);
        keyValue.weight().splitUnit(0, hd);
        o.weight().splitUnit(1, hd);
        keyValue.weight().fusedBlocks(0, 2); // k | v stacked: a column split takes a part of each (stride 2)
    }

    /**
     * x [B, Tq, d_model] attends to {@code encoded} [B, Tk, d_model] -> [B, Tq, d_model].
     *
     * @param bias the encoder padding mask [B, 1, 1, Tk], or null
     */
    public Tensor forward(Tensor x, Tensor encoded, Tensor bias, long dropoutSeed) {
        int b = x.globalShape()[0];
        int tq = x.globalShape()[1];
        int tk = encoded.globalShape()[1];
        Tensor qh = T5Attention.heads(q.forward(x), b, tq, config);
        List<Tensor> kv = keyValue.forward(encoded).split(config.innerDim(), -1);
        Tensor kh = T5Attention.heads(kv.get(0), b, tk, config);
        Tensor vh = T5Attention.heads(kv.get(1), b, tk, config);
        Tensor y = T5Attention.attend(qh, kh, vh, bias, false, config, isTraining(), DropoutSeeds.site(dropoutSeed, path + ".dropout"));
        return o.forward(T5Attention.merge(y, b, tq, config));
    }

    public Linear q() {
        return q;
    }

    public Linear o() {
        return o;
    }
}

package io.colo4j.zoo.llama;

import io.colo4j.ops.F;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.nn.KvCache;
import io.colo4j.zoo.nn.Layer;
import io.colo4j.ops.nn.RmsNorm;

/** HF's LlamaDecoderLayer: x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(x)). */
public final class LlamaDecoderLayer extends Layer<LlamaConfig> {
    private final LlamaAttention selfAttn;
    private final LlamaMlp mlp;
    private final RmsNorm inputLayernorm;
    private final RmsNorm postAttentionLayernorm;

    public LlamaDecoderLayer(LlamaConfig config, String path, long seed) {
        super(config, path);
        this.selfAttn = registerModule("self_attn", new LlamaAttention(config, path + ".self_attn", seed));
        this.mlp = registerModule("mlp", new LlamaMlp(config, path + ".mlp", seed));
        this.inputLayernorm = registerModule("input_layernorm", new RmsNorm(config.hiddenSize(), config.rmsNormEps()));
        this.postAttentionLayernorm = registerModule("post_attention_layernorm", new RmsNorm(config.hiddenSize(), config.rmsNormEps()));
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, long dropoutSeed) {
        return forward(x, cos, sin, dropoutSeed, null);
    }

    /** The layer on the tokens after {@code cache}'s (null: the whole sequence), cos and sin at their positions. */
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, long dropoutSeed, KvCache cache) {
        x = F.add(x, selfAttn.forward(inputLayernorm.forward(x), cos, sin, dropoutSeed, cache));
        return F.add(x, mlp.forward(postAttentionLayernorm.forward(x)));
    }
}

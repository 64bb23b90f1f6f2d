package io.colo4j.zoo.llama;

import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.KeyMap;

/**
 * HF model folders for Llama, with LlamaForCausalLM's keys ({@code model.layers.0.self_attn.q_proj.weight},
 * {@code lm_head.weight}). The {@code rotary_emb.inv_freq} buffers older transformers saved are ignored
 * (they are recomputed from rope_theta).
 */
public final class LlamaCheckpoint {
    public static final KeyMap KEYS = KeyMap.exact()
            .ignore("(model\\.)?layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq")
            .whenMissing("lm_head.weight", "a tied LM head, tie_word_embeddings true, is not supported");

    public static final HfCheckpoint<LlamaConfig, LlamaModel> FORMAT =
            new HfCheckpoint<>("Llama", LlamaConfig.FORMAT, LlamaModel::new, KEYS);

    private LlamaCheckpoint() {}
}

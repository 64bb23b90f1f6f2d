package io.colo4j.zoo.gpt2;

import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.KeyMap;

/**
 * HF model folders for GPT-2. Loading accepts both key styles (hub: {@code h.0.attn.c_attn.weight};
 * exported: {@code transformer.h.0.attn.c_attn.weight}), ignores the {@code h.N.attn.bias} /
 * {@code masked_bias} causal-mask buffers, and accepts {@code lm_head.weight} only when it is
 * wte-shaped (the tied head) and then ignores it. Saving writes {@code transformer.}-prefixed keys.
 */
public final class Gpt2Checkpoint {
    public static final KeyMap KEYS = KeyMap.prefixed("transformer.")
            .ignore("transformer\\.h\\.\\d+\\.attn\\.(bias|masked_bias)")
            .tied("transformer\\.lm_head\\.weight", "transformer.wte.weight", "untied LM heads are not supported");

    public static final HfCheckpoint<Gpt2Config, Gpt2Model> FORMAT =
            new HfCheckpoint<>("GPT-2", Gpt2Config.FORMAT, Gpt2Model::new, KEYS);

    private Gpt2Checkpoint() {}
}

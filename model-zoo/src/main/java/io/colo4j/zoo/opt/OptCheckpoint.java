package io.colo4j.zoo.opt;

import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.KeyMap;

/**
 * HF model folders for OPT. Loading accepts both key styles (OPTForCausalLM:
 * {@code model.decoder.layers.0.fc1.weight}; the bare OPTModel, as some facebook/opt-* checkpoints are
 * stored: {@code decoder.layers.0.fc1.weight}), and accepts {@code lm_head.weight} only when it is
 * embed_tokens-shaped (the tied head) and then ignores it. Saving writes {@code model.}-prefixed keys
 * and no lm_head (tied), as HF's save_pretrained does.
 */
public final class OptCheckpoint {
    public static final KeyMap KEYS = KeyMap.prefixed("model.", "lm_head.")
            .tied("lm_head\\.weight", "model.decoder.embed_tokens.weight", "untied LM heads are not supported");

    public static final HfCheckpoint<OptConfig, OptModel> FORMAT = new HfCheckpoint<>("OPT", OptConfig.FORMAT, OptModel::new, KEYS);

    private OptCheckpoint() {}
}

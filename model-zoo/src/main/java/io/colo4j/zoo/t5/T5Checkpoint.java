package io.colo4j.zoo.t5;

import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.KeyMap;

/**
 * HF model folders for T5, with HF's names, so a folder written here loads into HF's
 * T5ForConditionalGeneration and one of HF's loads here. The model's fused cross-attention
 * {@code EncDecAttention.key_value.weight} [2 inner, d_model] is written as HF's
 * {@code EncDecAttention.k.weight} and {@code v.weight} (its two halves) and assembled from them on load
 * (a folder holding {@code key_value.weight} itself is read too). Loading ignores the tied copies of
 * {@code shared}: {@code encoder.embed_tokens.weight}, {@code decoder.embed_tokens.weight} and
 * {@code lm_head.weight} (each must be shared-shaped; one stands in for {@code shared.weight} when that is absent).
 */
public final class T5Checkpoint {
    public static final KeyMap KEYS = KeyMap.exact()
            .tiedStandIn("(encoder|decoder)\\.embed_tokens\\.weight|lm_head\\.weight", "shared.weight",
                    "untied heads and embeddings are not supported")
            .fused(".key_value.weight", ".k.weight", ".v.weight");

    public static final HfCheckpoint<T5Config, T5ForConditionalGeneration> FORMAT =
            new HfCheckpoint<>("T5", T5Config.FORMAT, T5ForConditionalGeneration::new, KEYS);

    private T5Checkpoint() {}
}

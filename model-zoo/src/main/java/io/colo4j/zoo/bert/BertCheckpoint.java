package io.colo4j.zoo.bert;

import io.colo4j.zoo.hf.HfCheckpoint;
import io.colo4j.zoo.hf.KeyMap;

/**
 * HF model folders for BERT. Loading accepts the key styles HF does: {@code bert.}-prefixed
 * (BertForMaskedLM / BertForPreTraining) or bare (a BertModel export: {@code embeddings.word_embeddings.weight}),
 * and the old TF names {@code LayerNorm.gamma} / {@code LayerNorm.beta}. It ignores the
 * {@code embeddings.position_ids} buffer, the tied decoder {@code cls.predictions.decoder.weight} (which
 * must be word-table shaped), {@code cls.predictions.decoder.bias} (HF's alias of {@code cls.predictions.bias},
 * used when that is absent) and the next-sentence head {@code cls.seq_relationship.*}. A checkpoint
 * without pooler weights (HF's BertForMaskedLM has no pooler) leaves the pooler at its initial values;
 * pooler weights are ignored by a model without one. Saving writes BertForMaskedLM's names without the
 * tied decoder, as HF's own safetensors exports do.
 */
public final class BertCheckpoint {
    public static final KeyMap KEYS = KeyMap.prefixed("bert.", "cls.")
            .rename("LayerNorm.gamma", "LayerNorm.weight")
            .rename("LayerNorm.beta", "LayerNorm.bias")
            .ignore("bert\\.embeddings\\.position_ids")
            .ignore("cls\\.seq_relationship\\..*")
            .optional("bert\\.pooler\\..*")
            .tied("cls\\.predictions\\.decoder\\.weight", "bert.embeddings.word_embeddings.weight", "untied MLM decoders are not supported")
            .tiedStandIn("cls\\.predictions\\.decoder\\.bias", "cls.predictions.bias", "HF's alias of the MLM bias");

    public static final HfCheckpoint<BertConfig, BertForMaskedLM> FORMAT =
            new HfCheckpoint<>("BERT", BertConfig.FORMAT, BertForMaskedLM::new, KEYS);

    private BertCheckpoint() {}
}

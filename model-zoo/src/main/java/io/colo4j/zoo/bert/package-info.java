/**
 * BERT (HF's BertForMaskedLM) as plain serial code with HF parameter names and the torch Linear
 * [out, in] layout: {@link io.colo4j.zoo.bert.BertForMaskedLM}, its {@link io.colo4j.zoo.bert.BertConfig}
 * (HF config.json), {@link io.colo4j.zoo.bert.BertCheckpoint} (HF model folders) and the trainer's
 * masked-LM adapter {@link io.colo4j.zoo.bert.BertLanguageModel}. Sharding rules:
 * {@code /io/colo4j/zoo/bert/bert.rules.json}.
 */
package io.colo4j.zoo.bert;

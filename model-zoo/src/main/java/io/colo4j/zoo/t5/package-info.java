/**
 * A T5-shaped encoder-decoder (HF's T5ForConditionalGeneration, v1.0) as plain serial code with HF
 * parameter names, relative position buckets and the tied, rescaled LM head; its cross-attention fuses
 * key and value into one projection as FlagAI's T5 does. {@link io.colo4j.zoo.t5.T5ForConditionalGeneration},
 * {@link io.colo4j.zoo.t5.T5Config} (HF config.json), {@link io.colo4j.zoo.t5.T5Checkpoint} (HF model
 * folders) and the trainer adapter {@link io.colo4j.zoo.t5.T5LanguageModel}. Sharding rules:
 * {@code /io/colo4j/zoo/t5/t5.rules.json}.
 */
package io.colo4j.zoo.t5;

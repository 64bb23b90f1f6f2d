/**
 * GPT-2 (HF's GPT2LMHeadModel) as plain serial code with HF parameter names and the Conv1D [in, out]
 * layout: {@link io.colo4j.zoo.gpt2.Gpt2Model}, its {@link io.colo4j.zoo.gpt2.Gpt2Config} (HF config.json)
 * and {@link io.colo4j.zoo.gpt2.Gpt2Checkpoint} (HF model folders, both key styles).
 */
package io.colo4j.zoo.gpt2;

/**
 * Llama (HF's LlamaForCausalLM) as plain serial code with HF parameter names and the torch Linear
 * [out, in] layout: RMSNorm, rotary embeddings, SwiGLU MLP, grouped-query attention and an untied LM
 * head. {@link io.colo4j.zoo.llama.LlamaModel}, its {@link io.colo4j.zoo.llama.LlamaConfig} (HF
 * config.json) and {@link io.colo4j.zoo.llama.LlamaCheckpoint} (HF model folders). Sharding rules:
 * {@code /io/colo4j/zoo/llama/llama.rules.json}.
 */
package io.colo4j.zoo.llama;

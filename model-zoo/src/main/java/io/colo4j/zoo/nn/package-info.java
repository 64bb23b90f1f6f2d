/**
 * What the zoo's families share beyond the layers of {@link io.colo4j.ops.nn} (Linear, Embedding, LayerNorm,
 * RMSNorm, Dropout): a block's config and path ({@link io.colo4j.zoo.nn.Layer}), attention's head projections,
 * causal attention and its KV cache, token-id checks and padding masks.
 */
package io.colo4j.zoo.nn;

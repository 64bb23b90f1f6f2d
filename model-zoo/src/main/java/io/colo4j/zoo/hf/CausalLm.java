package io.colo4j.zoo.hf;

import io.colo4j.tensor.IntTensor;
import io.colo4j.tensor.Tensor;
import io.colo4j.zoo.nn.KvCache;

/** A causal LM that can continue a sequence: what {@code generate} drives (GPT-2, OPT, Llama). */
public interface CausalLm {
    /**
     * Logits [B, T, vocab] (vocab-parallel when the head is) of ids [B, T] read after {@code cache}'s tokens, whose
     * keys and values it appends to the cache; null reads ids as the whole sequence.
     */
    Tensor forward(IntTensor ids, KvCache cache);
}

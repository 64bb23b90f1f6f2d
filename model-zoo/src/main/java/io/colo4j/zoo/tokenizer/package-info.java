/**
 * Tokenizers: bytes (the default), GPT-2's BPE (bundled through jtokkit), and byte-level BPE from user
 * files (vocab.json + merges.txt or an HF tokenizer.json); {@link io.colo4j.zoo.tokenizer.Tokenizers#load}.
 */
package io.colo4j.zoo.tokenizer;

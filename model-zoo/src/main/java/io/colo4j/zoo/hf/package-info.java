/**
 * What every zoo family shares with HuggingFace: its config.json bound onto a record with HF's field
 * names ({@link io.colo4j.zoo.hf.HfConfigFormat}), its model folder read through a per-family key map
 * ({@link io.colo4j.zoo.hf.HfCheckpoint}, {@link io.colo4j.zoo.hf.KeyMap}), and the trainer's view of
 * a built model ({@link io.colo4j.zoo.hf.HfLanguageModel}).
 */
package io.colo4j.zoo.hf;

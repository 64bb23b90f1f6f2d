/**
 * Language-model training: deterministic batches from a token stream ({@link io.colo4j.zoo.train.TokenData}),
 * the {@link io.colo4j.zoo.train.Trainer} (AdamW, warmup + cosine, clipping, atomic checkpoints, resume,
 * losses.csv and loss.png) and held-out {@link io.colo4j.zoo.train.Evaluation}.
 */
package io.colo4j.zoo.train;

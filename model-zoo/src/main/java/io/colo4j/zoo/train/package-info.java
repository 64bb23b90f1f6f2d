/**
 * Language-model training: deterministic batches from a token stream ({@link io.colo4j.zoo.train.TokenData}),
 * the {@link io.colo4j.zoo.train.Trainer} loop (AdamW, warmup + cosine, clipping, losses.csv and loss.png), its
 * checkpoints ({@link io.colo4j.zoo.train.TrainCheckpoint}: contents and resume; {@link io.colo4j.zoo.train.CheckpointStore}:
 * staging, atomic publish of {@code latest}, pruning; {@link io.colo4j.zoo.train.CheckpointManifest}: checksums),
 * the checks before a run ({@link io.colo4j.zoo.train.SaveFolder}) and during it
 * ({@link io.colo4j.zoo.train.TrainingDiverged}), and held-out {@link io.colo4j.zoo.train.Evaluation}.
 */
package io.colo4j.zoo.train;

/**
 * Optimisation: {@link io.colo4j.ops.optim.AdamW} (torch semantics), {@link io.colo4j.ops.optim.LrSchedule}
 * (linear warmup + cosine decay) and {@link io.colo4j.ops.optim.GradClip} (global-norm clipping with a
 * pluggable cross-rank reduction of the squared norm).
 */
package io.colo4j.ops.optim;

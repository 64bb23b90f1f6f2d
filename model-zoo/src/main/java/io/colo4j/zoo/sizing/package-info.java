/**
 * Sizing a training run of a zoo model without allocating it: memory per rank from the sharding plan
 * ({@link io.colo4j.zoo.memory.MemoryPerRank}, the same model a run reports from the shards it holds), communication per step from a small proxy's traced step,
 * scaled by tokens and layers ({@link io.colo4j.zoo.sizing.CommPerStep}), and the measured side to check
 * it against ({@link io.colo4j.zoo.sizing.StepTrace}). {@link io.colo4j.zoo.sizing.SizingPlan} puts them
 * together; {@code bin/colo4j plan} prints it.
 */
package io.colo4j.zoo.sizing;

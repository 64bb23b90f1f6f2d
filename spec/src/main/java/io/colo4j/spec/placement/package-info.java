/**
 * The placement algebra: binds a {@link io.colo4j.spec.DistSpec} to a tensor's global shape and
 * a tp group size ({@link io.colo4j.spec.placement.ShardLayout}: local shapes, the global index
 * ranges each rank holds), and names the collective that turns one layout into another, with its
 * per-rank traffic and its backward counterpart
 * ({@link io.colo4j.spec.placement.Redistribution},
 * {@link io.colo4j.spec.placement.CollectiveKind},
 * {@link io.colo4j.spec.placement.TensorParallelMapping}).
 *
 * <p>Everything here is about the tensor-parallel group; ranks are tp ranks {@code 0..n-1}.
 */
package io.colo4j.spec.placement;

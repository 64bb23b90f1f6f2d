/**
 * Distribution specs, compute specs and process groups: what a parameter's placement over the
 * tensor-parallel group is, described as pure data.
 *
 * <ul>
 *   <li>{@link io.colo4j.spec.DistSpec} ({@link io.colo4j.spec.ReplicaSpec},
 *       {@link io.colo4j.spec.ShardSpec}, {@link io.colo4j.spec.PartialSpec}): how the values of one
 *       tensor are spread over the ranks of a tp group.
 *   <li>{@link io.colo4j.spec.ComputeSpec}: which parallel compute pattern an operator follows.
 *   <li>{@link io.colo4j.spec.ProcessGroup}: the tp x dp mesh of global ranks.
 *   <li>{@code io.colo4j.spec.placement}: the algebra over those (local shapes, index ranges,
 *       the collective that turns one spec into another and what it costs).
 *   <li>{@code io.colo4j.spec.json}: the JSON form of all of the above.
 * </ul>
 *
 * <p>Nothing here touches tensors, threads or the network; bad input fails fast with a
 * {@link io.colo4j.spec.SpecException} that names the culprit.
 */
package io.colo4j.spec;

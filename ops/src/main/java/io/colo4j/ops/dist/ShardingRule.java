package io.colo4j.ops.dist;

/**
 * For one op family: given the inputs' placements, the strategy to run it locally, or null when no
 * strategy applies (the dispatcher then gathers everything to replicate and records the fallback).
 */
@FunctionalInterface
public interface ShardingRule {
    Strategy plan(OpCall call);
}

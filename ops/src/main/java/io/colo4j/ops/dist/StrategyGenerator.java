package io.colo4j.ops.dist;

import java.util.List;

/**
 * An op's sharding rule as data: for one call, the SBP signatures it can run under (as PyTorch
 * DTensor's {@code register_op_strategy}). The dispatcher prices each by the bytes its conversions
 * move and runs the cheapest; ties go to the earlier one, so a generator lists the Megatron layout
 * first where two cost the same. An empty list means the dispatcher gathers everything to replicate.
 */
@FunctionalInterface
public interface StrategyGenerator {
    List<Strategy> candidates(OpCall call);

    /** For an op that has no sharding rule: it always runs on replicated inputs. */
    StrategyGenerator NONE = call -> List.of();
}

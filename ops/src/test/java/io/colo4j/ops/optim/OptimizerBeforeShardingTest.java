package io.colo4j.ops.optim;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.ops.nn.Linear;
import io.colo4j.spec.ComputeSpec;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.colo.ColoParameter;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.WeightLayout;
import org.junit.jupiter.api.Test;

/**
 * An optimizer created over a model's parameters before the rules shard them holds state sized for the whole
 * parameter on every rank: refused at its first use, naming the parameter, instead of silently updating shards
 * from full-size moments.
 */
class OptimizerBeforeShardingTest {
    private record Built(Linear layer, DistContext context) {}

    private static Built lazyLayer(io.colo4j.tensor.comm.Communicator comm, int tp, int dp) {
        try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, dp), comm, "cpu")) {
            return new Built(new Linear(WeightLayout.OUT_IN, 4, 6, Init.normal(1, 0, 1), Init.zeros()), ctx.context());
        }
    }

    /** What ShardingRules.apply does to a column-parallel Linear. */
    private static void shardColumns(Linear l, int tp) {
        ((ColoParameter) l.weight()).setSpec(DistSpec.shard(0, tp), ComputeSpec.tp1d());
    }

    @Test
    void adamWCreatedBeforeTheRulesIsRefusedNamingTheParameter() {
        ThreadWorld.call(2, comm -> {
            Built b = lazyLayer(comm, 2, 1);
            AdamW optimizer = new AdamW(b.layer().namedParameters(), AdamW.Options.defaults(1e-3));
            shardColumns(b.layer(), 2);
            assertThatThrownBy(optimizer::step).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("AdamW: parameter 'weight' was laid out as")
                    .hasMessageContaining("Create the optimizer after ShardingRules.apply");
            return null;
        });
    }

    @Test
    void zeroAdamWCreatedBeforeTheRulesIsRefusedNamingTheParameter() {
        ThreadWorld.call(4, comm -> {
            Built b = lazyLayer(comm, 2, 2);
            ZeroAdamW optimizer = new ZeroAdamW(b.layer().namedParameters(), AdamW.Options.defaults(1e-3), b.context(), 2);
            shardColumns(b.layer(), 2);
            assertThatThrownBy(optimizer::reduceGradients).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("ZeroAdamW: parameter 'weight' was laid out as");
            assertThatThrownBy(optimizer::step).hasMessageContaining("ZeroAdamW: parameter 'weight'");
            return null;
        });
    }
}

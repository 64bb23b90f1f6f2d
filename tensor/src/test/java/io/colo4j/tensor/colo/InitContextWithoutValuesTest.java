package io.colo4j.tensor.colo;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Parameter;
import org.junit.jupiter.api.Test;

/**
 * A model built for its shapes alone (a sizing proxy): its parameters are shards of the same shapes as under
 * {@link InitContext#open}, all zeros; the plain context still draws the initializer's values.
 */
class InitContextWithoutValuesTest {
    @Test
    void shardsHaveTheirShapesAndZeros() {
        ThreadWorld.run(2, comm -> {
            ColoParameter valued;
            try (InitContext ctx = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                valued = ctx.adopt(new Parameter(Init.normal(3, 0f, 1f), 4, 6));
            }
            ColoParameter shaped;
            try (InitContext ctx = InitContext.openWithoutValues(ProcessGroup.of(2, 1), comm, "cpu")) {
                shaped = ctx.adopt(new Parameter(Init.normal(3, 0f, 1f), 4, 6));
            }
            valued.setSpec(DistSpec.shard(1, 2), null);
            shaped.setSpec(DistSpec.shard(1, 2), null);
            assertThat(shaped.localShape()).containsExactly(valued.localShape());
            assertThat(shaped.local().toFloatArray()).containsOnly(0f);
            assertThat(valued.local().toFloatArray()).doesNotContain(0f);
        });
    }
}

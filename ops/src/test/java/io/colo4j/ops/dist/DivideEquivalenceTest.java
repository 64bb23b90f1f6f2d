package io.colo4j.ops.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.colo4j.ops.F;
import io.colo4j.spec.DistSpec;
import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Init;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.DistContext;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.colo.Redistributor;
import io.colo4j.tensor.comm.ThreadWorld;
import org.junit.jupiter.api.Test;

/** Division's backward reuses its output; the dispatcher must not have relabelled that tensor. */
class DivideEquivalenceTest {
    static Tensor leaf(long seed, float lo, float hi) {
        return Tensor.init(Init.uniform(seed, lo, hi), 2, 4).requiresGrad(true);
    }

    @Test
    void shardedDivisionHasTheSerialGradients() {
        Tensor a = leaf(1, -1, 1);
        Tensor b = leaf(2, 1, 2);
        F.sum(F.div(a, b)).backward();
        ThreadWorld.run(2, comm -> {
            DistContext ctx;
            try (InitContext init = InitContext.open(ProcessGroup.of(2, 1), comm, "cpu")) {
                ctx = init.context();
            }
            Tensor la = leaf(1, -1, 1);
            Tensor lb = leaf(2, 1, 2);
            Tensor sa = Redistributor.redistribute(ColoTensor.replicate(la, ctx), DistSpec.shard(1, 2));
            Tensor sb = Redistributor.redistribute(ColoTensor.replicate(lb, ctx), DistSpec.shard(1, 2));
            F.sum(F.div(sa, sb)).backward();
            float[] ga = la.grad().toFloatArray();
            float[] gb = lb.grad().toFloatArray();
            float[] ea = a.grad().toFloatArray();
            float[] eb = b.grad().toFloatArray();
            for (int i = 0; i < ea.length; i++) {
                assertThat(ga[i]).isCloseTo(ea[i], within(1e-6f));
                assertThat(gb[i]).isCloseTo(eb[i], within(1e-6f));
            }
        });
    }
}

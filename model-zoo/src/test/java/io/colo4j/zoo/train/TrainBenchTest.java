package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.profile.StepProfile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code bench train}'s figures and its profile on tiny configs (what they say, never how fast). */
class TrainBenchTest {
    private static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    private static final PrintStream OUT = new PrintStream(LOG, true, StandardCharsets.UTF_8);

    @Test
    void theProfileOfEveryRankAddsUpToItsMeasuredStepAndNamesWhereTheTimeWent() {
        for (int tp : new int[] {1, 2}) {
            TrainBench.Result r = TrainBench.run(new TrainBench.Options("gpt2", "tiny", tp, 2, 16, 3, true), OUT);
            assertThat(r.profile()).hasSize(tp);
            for (int rank = 0; rank < tp; rank++) {
                Map<String, StepProfile.Totals> p = r.profile().get(rank);
                long sum = p.values().stream().mapToLong(StepProfile.Totals::nanos).sum();
                // sections are exclusive and the step is their root: they cover the step but for the nanoTime calls around it
                assertThat((double) sum).as("tp=%d rank %d", tp, rank).isCloseTo(r.profiledNanos()[rank], org.assertj.core.data.Percentage.withPercentage(2));
                assertThat(p).containsKeys("gemm", "kernel layerNorm", "attention", "allocator", "forward", "backward", "optimizer");
                if (tp > 1) {
                    assertThat(p).containsKeys("collective allReduce", "dispatch");
                }
            }
            // Megatron's layout repeats no product: the ranks' GEMMs together do the model's, steps 2..3 of 2 windows
            // (the attention products inside the fused kernel counted as the products they stand for)
            assertThat(r.profile().stream().mapToLong(p -> p.get("gemm").work() + p.get("attention").work()).sum()).as("tp=%d", tp)
                    .isEqualTo(2 * 2 * ModelFlopsOf.gpt2Tiny(16));
            assertThat(r.mfu()).isPositive();
        }
        assertThat(LOG.toString(StandardCharsets.UTF_8)).contains("unaccounted", "sum of the rows", "rank 1 ms", "MFU", "max/min step");
    }

    @Test
    void everyFamilyRunsAndReportsMfuAndStability() {
        for (String family : new String[] {"gpt2", "opt", "llama", "bert", "t5"}) {
            TrainBench.Result r = TrainBench.run(new TrainBench.Options(family, "tiny", 1, 2, 8, 3, false), OUT);
            assertThat(r.stepSeconds()).as(family).hasSize(3);
            assertThat(r.mfu()).as(family).isPositive().isLessThan(1);
            assertThat(r.maxOverMinStep()).as(family).isGreaterThanOrEqualTo(1);
            assertThat(r.profile()).isEmpty();
        }
    }

    @Test
    void aWindowLongerThanTheModelIsRefusedNamingBoth() {
        assertThatThrownBy(() -> TrainBench.seq(new TrainBench.Options("gpt2", "tiny", 1, 2, 65, 2, false)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--seq 65").hasMessageContaining("64 positions");
        assertThat(TrainBench.seq(new TrainBench.Options("gpt2", "tiny", 1, 2, null, 2, false))).isEqualTo(64);
    }

    /** The GEMM FLOPs of one gpt2 tiny window, from the one formula. */
    private static final class ModelFlopsOf {
        static long gpt2Tiny(int seq) {
            return io.colo4j.zoo.sizing.ModelFlops.of(io.colo4j.zoo.gpt2.Gpt2Config.NAMED.get("tiny"), seq).gemmFlops();
        }
    }
}

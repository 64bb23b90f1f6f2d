package io.colo4j.tensor.comm;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class CommunicatorsTest {

    @Test
    void mpiIsDetectedFromTheLauncherEnvironment() {
        assertThat(Communicators.underMpi(Map.of())).isFalse();
        assertThat(Communicators.underMpi(Map.of("OMPI_COMM_WORLD_SIZE", "4"))).isTrue();
        assertThat(Communicators.underMpi(Map.of("PMIX_RANK", "0"))).isTrue();
    }

    @Test
    void withoutMpirunTheWorldIsOneInJvmRank() {
        assertThat(Communicators.underMpi()).as("the unit tests do not run under mpirun").isFalse();
        try (Communicator world = Communicators.world()) {
            assertThat(world.backend()).isEqualTo("thread");
            assertThat(world.size()).isEqualTo(1);
            assertThat(world.rank()).isZero();
            Tensor t = Tensor.vector(1, 2, 3);
            world.allReduce(t);
            assertThat(t.toFloatArray()).containsExactly(1, 2, 3);
            assertThat(world.allGather(t, 0).toFloatArray()).containsExactly(1, 2, 3);
        }
    }

    @Test
    void launchRunsInJvmRanksWithoutMpirun() {
        Map<Integer, Float> seen = new ConcurrentHashMap<>();
        Communicators.launch(3, comm -> {
            Tensor t = Tensor.full(comm.rank() + 1, 2);
            comm.allReduce(t);
            seen.put(comm.rank(), t.get(0));
        });
        assertThat(seen).containsOnlyKeys(0, 1, 2).allSatisfy((r, v) -> assertThat(v).isEqualTo(6f));
    }

    @Test
    void benchPrintsBusBandwidthBesideMemcpy() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<CommBench.Row> rows = CommBench.run(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                new CommBench.Options(new int[] {2, 3}, new long[] {64 << 10}, 1, 5, "auto"));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("memcpy", "all-reduce", "all-gather", "reduce-scatter", "2(n-1)/n", "64 KiB");
        assertThat(rows).hasSize(2);
        assertThat(rows).allSatisfy(r -> {
            assertThat(r.backend()).isEqualTo("thread");
            assertThat(r.memcpyGBs()).isPositive();
            assertThat(r.allReduceBusGBs()).isPositive();
            assertThat(r.allGatherBusGBs()).isPositive();
            assertThat(r.reduceScatterBusGBs()).isPositive();
        });
        assertThat(CommBench.parse(new String[] {"--ranks", "2", "--sizes", "1,16", "--rounds", "2"}).sizes())
                .containsExactly(1L << 20, 16L << 20);
    }
}

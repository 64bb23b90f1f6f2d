package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.zoo.ModelZoo;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code colo4j bench train} on every family's tiny config: it runs and prints MFU and stability (a smoke test, never timed). */
class BenchTrainCommandTest {
    static PlanCommandTest.Run bench(String... args) {
        List<String> all = new ArrayList<>(List.of("bench", "train"));
        all.addAll(List.of(args));
        return PlanCommandTest.cli(all.toArray(String[]::new));
    }

    @Test
    void everyFamilyBenchesAtTp1And2() {
        for (ModelZoo.Family family : ModelZoo.families()) {
            PlanCommandTest.Run run = bench("--model", family.name(), "--config", "tiny", "--tp", "1,2", "--batch", "2", "--seq", "8", "--steps", "2",
                    "--no-anchor");
            assertThat(run.rc()).as(family.name() + ": " + run.err()).isZero();
            assertThat(run.out()).as(family.name()).contains(family.name() + " tiny, batch 2 x seq 8: ", "model FLOPs per token",
                    "colo4j " + family.name() + " tiny tp=1", "colo4j " + family.name() + " tiny tp=2")
                    .containsPattern("tp=1: [0-9.]+ tokens/s, MFU [0-9.]+, max/min step [0-9.]+")
                    .containsPattern("tp=2: [0-9.]+ tokens/s, MFU [0-9.]+, max/min step [0-9.]+");
        }
    }

    @Test
    void profilePrintsTheBreakdownPerRank() {
        PlanCommandTest.Run run = bench("--model", "llama", "--config", "tiny", "--tp", "2", "--batch", "2", "--seq", "8", "--steps", "2", "--no-anchor",
                "--profile");
        assertThat(run.rc()).as(run.err()).isZero();
        assertThat(run.out()).contains("rank 0 ms", "rank 1 ms", "GEMM (matmul kernels)", "collective allReduce", "allocator",
                "backward: autograd engine", "optimizer", "unaccounted", "sum of the rows", "step time measured around them");
    }

    @Test
    void aTpTheModelCannotSplitFailsNamingTheRule() {
        PlanCommandTest.Run run = bench("--config", "tiny", "--tp", "3", "--batch", "2", "--seq", "8", "--steps", "2", "--no-anchor");
        assertThat(run.rc()).isNotZero();
        assertThat(run.err()).contains("at tp=3", "attn.qkv");
    }
}

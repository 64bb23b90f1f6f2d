package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.tensor.MemoryStats;
import io.colo4j.tensor.autograd.Recompute;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.sizing.LayoutSearch;
import io.colo4j.zoo.sizing.StepTrace;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * {@code plan --fit}: the layout chosen fits (its activations measured on a real step of the model), among layouts of
 * as many ranks it sends the fewest bytes, and when nothing fits the refusal names the least any layout needs.
 */
class PlanFitTest {
    private static final ModelZoo.Family GPT2 = ModelZoo.family("gpt2");
    private static final int BATCH = 2;
    private static final int SEQ = 64;

    @Test
    void aRoomyBudgetFitsOneRankWithoutRecompute() {
        LayoutSearch.Result r = LayoutSearch.search(GPT2, "mini", BATCH, SEQ, 1L << 30, OptionalInt.empty());
        LayoutSearch.Candidate c = r.chosen();
        assertThat(c.ranks()).isEqualTo(1);
        assertThat(c.activations().recompute()).isEqualTo(Recompute.NONE);
        assertThat(r.tracedTp()).containsExactly(1);
    }

    /**
     * A budget just under one rank's smallest need (full recompute): two ranks, and of the two-rank layouts the
     * chosen one sends least; its activations are those of a measured step of the model at its tp.
     */
    @Test
    void aTightBudgetTakesTheFewestRanksThatFitAndTheLeastCommunicationAmongThem() {
        LayoutSearch.Result roomy = LayoutSearch.search(GPT2, "mini", BATCH, SEQ, 1L << 30, OptionalInt.empty());
        long oneRank = roomy.fitting().stream().mapToLong(LayoutSearch.Candidate::totalBytes).min().orElseThrow();
        long budget = oneRank - 1;
        LayoutSearch.Result r = LayoutSearch.search(GPT2, "mini", BATCH, SEQ, budget, OptionalInt.empty());
        LayoutSearch.Candidate chosen = r.chosen();
        assertThat(chosen.ranks()).isEqualTo(2);
        assertThat(r.fitting()).allSatisfy(f -> {
            assertThat(f.ranks()).isEqualTo(2);
            assertThat(f.totalBytes()).isLessThanOrEqualTo(budget);
        });
        // layouts of both tp 1 x dp 2 (ZeRO) and tp 2 fit; the chosen one sends no more than any other
        assertThat(r.fitting().stream().map(LayoutSearch.Candidate::tp).distinct()).hasSizeGreaterThan(1);
        assertThat(r.fitting()).allSatisfy(f -> assertThat(chosen.commBytes().getAsLong()).isLessThanOrEqualTo(f.commBytes().getAsLong()));
        assertThat(r.fitting().stream().filter(f -> f.commBytes().getAsLong() > chosen.commBytes().getAsLong())).isNotEmpty();

        // really fits: a measured step of the model at the chosen tp holds the activations the search counted (within 10%)
        if (chosen.activations().recompute() == Recompute.NONE && !chosen.activations().sequenceParallel()) {
            long measured = StepTrace.run(GPT2, () -> GPT2.build("mini", 1234), chosen.tp(), 1, List.of(new StepTrace.Window(BATCH, SEQ)))
                    .stepPeakBytesPerRank().get(0);
            assertThat((double) chosen.activationBytes()).isCloseTo(measured, org.assertj.core.data.Percentage.withPercentage(10));
            assertThat(chosen.stateBytes() + measured).isLessThanOrEqualTo(budget + budget / 10);
        }
    }

    /**
     * The search sizes a model without allocating it: at its peak the process holds (proxies, their gradients and steps
     * included) less than half the model's parameters alone (0.37 of them). GPT-2 medium: 24 layers of 1024, traced as 3.
     */
    @Test
    void theSearchNeverHoldsTheModel() {
        long parameterBytes = GPT2.buildLazily("medium").parameterCount() * Float.BYTES;
        long liveBefore = MemoryStats.liveBytes();
        MemoryStats.resetPeak();
        LayoutSearch.Result r = LayoutSearch.search(GPT2, "medium", 1, 256, 64L << 30, OptionalInt.empty());
        long held = MemoryStats.peakBytes() - liveBefore;
        assertThat(r.chosen().ranks()).isEqualTo(1);
        assertThat(held).as("bytes held during the search, model parameters %,d", parameterBytes).isPositive()
                .isLessThan(parameterBytes / 2);
    }

    /**
     * Llama-7B (28 GB of parameters, 7B-wide layers traced as 3): the search's peak of tensor memory, live and reserved
     * from the OS, stays under 1/20 of the parameter bytes; its proxies' weights are views of one zero block per rank
     * and their products are not computed ({@code ProxyKernels}, {@code SharedZeros}).
     */
    @Test
    void aSevenBillionParameterLlamaIsSizedWithoutItsWeights() {
        ModelZoo.Family llama = ModelZoo.family("llama");
        long parameterBytes = llama.buildLazily("llama-7b").parameterCount() * Float.BYTES;
        long liveBefore = MemoryStats.liveBytes();
        long reservedBefore = MemoryStats.reservedBytes();
        MemoryStats.resetPeak();
        LayoutSearch.Result r = LayoutSearch.search(llama, "llama-7b", 1, 2048, 200L << 30, OptionalInt.of(1));
        assertThat(r.chosen().ranks()).isEqualTo(1);
        assertThat(r.chosen().stateBytes()).isGreaterThan(3 * parameterBytes);
        assertThat(MemoryStats.peakBytes() - liveBefore).as("live bytes at the peak, parameters %,d", parameterBytes)
                .isPositive().isLessThan(parameterBytes / 20);
        assertThat(MemoryStats.peakReservedBytes() - reservedBefore).as("reserved bytes at the peak, parameters %,d", parameterBytes)
                .isLessThan(parameterBytes / 20);
    }

    @Test
    void nothingFitsNamesTheLeastAnyLayoutNeeds() {
        assertThatThrownBy(() -> LayoutSearch.search(GPT2, "tiny", 1, 32, 4096, OptionalInt.of(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("gpt2 tiny at 1 x 32 tokens per dp rank fits no layout at 2 ranks (tp degrees [1, 2]) in 0.0 MiB (4,096 bytes) per rank")
                .hasMessageContaining(": the least any needs is more than").hasMessageContaining("its parameters alone");
    }

    @Test
    void fitFromTheCommandLineAsTextAndJson() throws Exception {
        PlanCommandTest.Run text = PlanCommandTest.plan("--model", "gpt2", "--config", "tiny", "--fit", "1GiB", "--batch", "2", "--seq", "32");
        assertThat(text.rc()).as(text.err()).isZero();
        assertThat(text.out()).startsWith("gpt2 tiny, 2 x 32 tokens per dp rank, in 1.0 GiB (1,073,741,824 bytes) per rank: 1 ranks,"
                + " tp=1 dp=1 zero 0, recompute none").contains("layouts that fit at 1 ranks, best first");

        PlanCommandTest.Run json = PlanCommandTest.plan("--model", "gpt2", "--config", "tiny", "--fit", "1GiB", "--world", "2", "--json");
        assertThat(json.rc()).as(json.err()).isZero();
        JsonNode root = new ObjectMapper().readTree(json.out());
        assertThat(root.get("chosen").get("ranks").asInt()).isEqualTo(2);
        assertThat(root.get("chosen").get("totalBytesPerRank").asLong()).isPositive().isLessThanOrEqualTo(1L << 30);

        PlanCommandTest.Run none = PlanCommandTest.plan("--model", "gpt2", "--config", "tiny", "--fit", "1KiB", "--world", "1");
        assertThat(none.rc()).isEqualTo(1);
        assertThat(none.err()).contains("fits no layout at 1 ranks").contains("the least any needs is");

        PlanCommandTest.Run bad = PlanCommandTest.plan("--model", "gpt2", "--config", "tiny", "--fit", "16 parsecs");
        assertThat(bad.rc()).isEqualTo(1);
        assertThat(bad.err()).contains("--fit 16 parsecs: not a memory size");
    }

    @Test
    void planJsonHasActivationBytesPerRankUnderMemory() throws Exception {
        PlanCommandTest.Run run = PlanCommandTest.plan("--model", "gpt2", "--config", "tiny", "--tp", "2", "--json");
        assertThat(run.rc()).as(run.err()).isZero();
        JsonNode memory = new ObjectMapper().readTree(run.out()).get("memory");
        long activations = memory.get("bytesPerRank").get("activations").asLong();
        assertThat(activations).isPositive();
        assertThat(memory.get("bytesPerRank").get("totalWithActivations").asLong())
                .isEqualTo(memory.get("bytesPerRank").get("total").asLong() + activations);
        assertThat(memory.get("activations").get("layouts")).hasSize(6);
    }
}

package io.colo4j.zoo.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.zoo.ModelZoo;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The bounded search ({@link LayoutSearch#search}: layouts whose lower bound is past the budget are not traced) gives
 * the exhaustive search's answer: the same layouts that fit, with the same bytes and order, or the same refusal naming
 * the same least need; for budgets where everything fits, where only more ranks fit, and where nothing fits (parameters
 * alone too large, or parameters fitting but not their state); GPT-2 tiny and mini, Llama, OPT, BERT and T5 tiny. And
 * the bounds do prune: some searches trace fewer tp degrees.
 */
class LayoutSearchBoundsTest {
    private static final int BATCH = 2;
    private static final int SEQ = 32;

    /** A budget of {@code ofOneRank} times the least one rank needs, or (negative) of -ofParameters times the parameter bytes. */
    private record Case(String family, String config, double ofOneRank, OptionalInt world, int batch, int seq) {
        Case(String family, String config, double ofOneRank, OptionalInt world) {
            this(family, config, ofOneRank, world, BATCH, SEQ);
        }
    }

    @Test
    void boundedAndExhaustiveSearchesAgree() {
        List<Case> cases = List.of(
                new Case("gpt2", "tiny", 64, OptionalInt.empty()),
                new Case("gpt2", "tiny", 0.999, OptionalInt.empty()),
                new Case("gpt2", "tiny", 0.6, OptionalInt.empty()),
                new Case("gpt2", "tiny", 0.6, OptionalInt.of(2)),
                new Case("gpt2", "tiny", 0.3, OptionalInt.of(1)),
                new Case("gpt2", "tiny", 1e-6, OptionalInt.of(2)),
                new Case("gpt2", "mini", 0.5, OptionalInt.empty()),
                new Case("gpt2", "mini", 0.45, OptionalInt.of(2)),
                new Case("llama", "tiny", 0.999, OptionalInt.empty()),
                new Case("llama", "tiny", 0.5, OptionalInt.of(2)),
                new Case("opt", "tiny", 0.5, OptionalInt.empty()),
                new Case("bert", "tiny", 0.999, OptionalInt.empty()),
                new Case("t5", "tiny", 0.5, OptionalInt.of(2)),
                // in parameters P: tp 2 is traced first (at 2 ranks); at 4 ranks tp 1's parameters and moments (ZeRO 2: 1.5 P)
                // fit but not with its gradients (1.75 P), and tp 4 fits: tp 1 is never traced
                new Case("gpt2", "mini", -1.6, OptionalInt.empty(), 1, 8),
                // nothing fits 4 ranks; tp 4 needs least (1.1 P), less than tp 1's bound
                new Case("gpt2", "mini", -1.05, OptionalInt.of(4), 1, 8));
        int fewerTraces = 0;
        int refusals = 0;
        for (Case c : cases) {
            ModelZoo.Family family = ModelZoo.family(c.family());
            long budget;
            if (c.ofOneRank() < 0) {
                budget = (long) (-c.ofOneRank() * family.buildLazily(c.config()).parameterCount() * Float.BYTES);
            } else {
                long oneRank = LayoutSearch.searchExhaustively(family, c.config(), c.batch(), c.seq(), 1L << 40, OptionalInt.of(1))
                        .fitting().stream().mapToLong(LayoutSearch.Candidate::totalBytes).min().orElseThrow();
                budget = Math.max(1, (long) (oneRank * c.ofOneRank()));
            }
            String what = c + ", budget " + budget;
            Object bounded = outcome(() -> LayoutSearch.search(family, c.config(), c.batch(), c.seq(), budget, c.world()));
            Object exhaustive = outcome(() -> LayoutSearch.searchExhaustively(family, c.config(), c.batch(), c.seq(), budget, c.world()));
            if (exhaustive instanceof LayoutSearch.Result e) {
                assertThat(bounded).as(what).isInstanceOf(LayoutSearch.Result.class);
                LayoutSearch.Result b = (LayoutSearch.Result) bounded;
                assertThat(b.fitting()).as(what).isEqualTo(e.fitting());
                assertThat(e.tracedTp()).as(what).containsAll(b.tracedTp());
                fewerTraces += b.tracedTp().size() < e.tracedTp().size() ? 1 : 0;
            } else {
                assertThat(bounded).as(what + ": " + bounded).isInstanceOf(IllegalArgumentException.class);
                assertThat(((Throwable) bounded).getMessage()).as(what).isEqualTo(((Throwable) exhaustive).getMessage())
                        .contains("the least any needs is");
                refusals++;
            }
        }
        assertThat(fewerTraces).as("searches the bounds spared a trace").isPositive();
        assertThat(refusals).as("searches where nothing fits").isGreaterThanOrEqualTo(3);
    }

    /** The result, or the refusal. */
    private static Object outcome(java.util.function.Supplier<LayoutSearch.Result> search) {
        try {
            return search.get();
        } catch (IllegalArgumentException refused) {
            return refused;
        }
    }
}

package io.colo4j.zoo.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import io.colo4j.tensor.autograd.Recompute;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The order --fit prefers layouts in: fewer ranks, then fewer bytes sent, and only then less recompute. */
class LayoutSearchTest {
    private static LayoutSearch.Candidate candidate(int tp, int dp, Recompute recompute, long sent) {
        return new LayoutSearch.Candidate(tp, dp, 0, new ActivationLayouts.Layout(recompute, false), 100, 10, OptionalLong.of(sent), true);
    }

    @Test
    void fewerRanksThenLessCommunicationThenLessRecompute() {
        LayoutSearch.Candidate fewRanks = candidate(1, 1, Recompute.FULL, 900);
        LayoutSearch.Candidate cheap = candidate(2, 1, Recompute.FULL, 10);
        LayoutSearch.Candidate dear = candidate(1, 2, Recompute.NONE, 20);
        LayoutSearch.Candidate dearer = candidate(2, 1, Recompute.NONE, 30);
        List<LayoutSearch.Candidate> all = new ArrayList<>(List.of(dearer, dear, cheap, fewRanks));
        all.sort(LayoutSearch.PREFERENCE);
        assertThat(all).containsExactly(fewRanks, cheap, dear, dearer);
        LayoutSearch.Candidate unknown = new LayoutSearch.Candidate(2, 1, 0, new ActivationLayouts.Layout(Recompute.NONE, false), 1, 1,
                OptionalLong.empty(), true);
        all.add(unknown);
        all.sort(LayoutSearch.PREFERENCE);
        assertThat(all.get(all.size() - 1)).isEqualTo(unknown);
    }
}
